import Corral

/// `corral unwrap CONFIG`: undo `corral wrap`.
enum UnwrapCommand {
    struct Options {
        var inPlace = false
        var corral = "corral"
    }

    static let spec = CommandSpec<Options>(
        name: "unwrap",
        abstract: "undo wrap: restore the servers' own commands in an MCP client's configuration",
        synopsis: "corral unwrap CONFIG [--in-place] [--corral PATH]",
        discussion: """
            Restores each server of CONFIG that runs under `corral run ... -- COMMAND ARGS...` to COMMAND and ARGS
            exactly, dropping corral's options; everything else is left as it is. Servers not run by corral are
            not touched.

            When CONFIG.corral-backup (written by `corral wrap --in-place`) holds the same configuration as the
            unwrapped one, i.e. CONFIG was not changed since it was wrapped except for corral's own options, the
            backup is the result, byte for byte with its original formatting, and with --in-place it is removed.
            Otherwise the unwrapped configuration is written indented by two spaces and the backup is kept.
            """,
        options: [
            Option(["-i", "--in-place"], help: """
                Rewrite CONFIG itself, atomically (a temporary file in the same directory, synced and renamed over
                it; mode and owner kept), instead of printing the result on stdout. A symbolic link is followed.
                """) { options, _ in options.inPlace = true },
            Option(["--corral"], value: "PATH", help: """
                The --corral PATH given to wrap, when its file name is not corral (commands named corral are
                always recognised).
                """) { options, value in options.corral = value },
        ],
        takesCommand: false,
        footer: """
            EXIT STATUS
                0    the configuration was written (or printed)
                64   invalid options, invalid JSON (with its line and column), or no "mcpServers" / "mcp.servers"
                66   CONFIG does not exist or cannot be read
                73   CONFIG or a temporary file next to it cannot be written

            EXAMPLES
                corral unwrap ~/.config/Claude/claude_desktop_config.json
                corral unwrap --in-place .mcp.json

            SEE ALSO
                corral help wrap
            """
    )

    static func main(_ arguments: [String]) -> Int32 {
        var options = Options()
        var status: Int32 = 0
        guard let path = spec.singleArgument(arguments, into: &options, naming: "configuration file", exitStatus: &status) else {
            return status
        }
        do throws(CorralError) {
            let result = try MCPConfig.unwrapFile(path, corral: options.corral, inPlace: options.inPlace)
            WrapCommand.report(result, inPlace: options.inPlace, nothing: "no server to unwrap")
            if result.restoredFromBackup {
                Console.error(result.wrote
                    ? "restored \(path) byte for byte from \(result.backup) (backup removed)"
                    : "the output is \(result.backup) byte for byte (\(path) is unchanged since it was wrapped)")
            } else if result.wrote {
                Console.error("wrote \(path)" + (result.foundBackup
                    ? "; kept \(result.backup): the file changed since it was wrapped" : ""))
            }
            if let output = result.output { Console.output(output) }
            return 0
        } catch {
            Console.error(error.message)
            return error.exitCode
        }
    }
}
