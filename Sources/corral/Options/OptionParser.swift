import Corral

/// One option of a subcommand: its spellings, the placeholder of its value (nil for a flag), its help, and what it
/// does to the options being built. Help pages and shell completions are generated from these.
struct Option<Options>: Sendable {
    let names: [String]
    let value: String?
    let help: String
    /// Values a shell may complete for this option ("FILE" completes paths when nil).
    let choices: [String]
    /// Options (by their first spelling) that cannot be given with this one; its own name means "at most once".
    let excludes: [String]
    let apply: @Sendable (inout Options, String) throws(CorralError) -> Void

    init(_ names: [String], value: String? = nil, choices: [String] = [], excludes: [String] = [], help: String,
         apply: @escaping @Sendable (inout Options, String) throws(CorralError) -> Void) {
        self.names = names
        self.value = value
        self.help = help
        self.choices = choices
        self.excludes = excludes
        self.apply = apply
    }
}

/// A subcommand's interface: what `corral help NAME` prints and what its parser accepts.
struct CommandSpec<Options>: Sendable {
    let name: String
    let abstract: String
    let synopsis: String
    let discussion: String
    let options: [Option<Options>]
    /// Whether the first argument that is not an option starts a command line that is passed through untouched.
    let takesCommand: Bool
    var footer: String = ""

    /// Parses `arguments` into `options`; returns the positional arguments (for `takesCommand`, the command line),
    /// or nil when -h or --help came before them.
    func parse(_ arguments: [String], into options: inout Options) throws(CorralError) -> [String]? {
        var positionals: [String] = []
        // The options given so far, by first spelling: as written, and their value.
        var given: [String: (spelling: String, value: String)] = [:]
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                positionals += arguments[index...]
                break
            }
            if argument == "-h" || argument == "--help" { return nil }
            guard argument.hasPrefix("-"), argument != "-" else {
                positionals.append(argument)
                if takesCommand {
                    positionals += arguments[index...]
                    break
                }
                continue
            }
            var name = argument
            var inline: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            } else if !argument.hasPrefix("--"), argument.count > 2 {
                name = String(argument.prefix(2))
                inline = String(argument.dropFirst(2))
            }
            guard let option = option(named: name) else {
                throw CorralError(.invalidConfiguration, "unknown option '\(name)' for 'corral \(self.name)' (see 'corral help \(self.name)')")
            }
            let value = try self.value(of: option, spelled: name, inline: inline, arguments, &index)
            if let clash = option.excludes.lazy.compactMap({ given[$0] }).first {
                throw CorralError(.invalidConfiguration, option.names.contains(clash.spelling)
                    ? "option '\(name)' is given twice" + (option.value == nil ? "" : " ('\(clash.value)', then '\(value)')") + "; it may be given once"
                    : "option '\(name)' cannot be combined with '\(clash.spelling)'")
            }
            given[option.names[0]] = (name, value)
            try option.apply(&options, value)
        }
        return positionals
    }

    /// The value of `option` as given: inline (`--name=x`, `-px`), the next argument, or "" for a flag.
    private func value(of option: Option<Options>, spelled name: String, inline: String?, _ arguments: [String],
                       _ index: inout Int) throws(CorralError) -> String {
        guard let placeholder = option.value else {
            guard inline == nil else {
                throw CorralError(.invalidConfiguration, "option '\(name)' takes no value, but was given '\(inline!)'")
            }
            return ""
        }
        if let inline { return inline }
        guard index < arguments.endIndex else {
            throw CorralError(.invalidConfiguration, "option '\(name)' needs a value (\(placeholder))")
        }
        let value = arguments[index]
        index += 1
        // "--name -- cmd" or "--name --memory-max 1G": the value was forgotten; taking the next word would turn
        // what follows into a command or a stray argument.
        if value == "--" || self.option(named: value) != nil {
            throw CorralError(.invalidConfiguration, "option '\(name)' is missing its value (\(placeholder)): it is followed by '\(value)'"
                + (name.hasPrefix("--") ? " (write \(name)=\(value) if that is the value)" : ""))
        }
        return value
    }

    /// Parses a command that takes options only. Returns false after printing the manual for -h or --help.
    func parseOptionsOnly(_ arguments: [String], into options: inout Options) throws(CorralError) -> Bool {
        guard let rest = try parse(arguments, into: &options) else {
            Console.output(help)
            return false
        }
        guard rest.isEmpty else {
            throw CorralError(.invalidConfiguration, "unexpected argument '\(rest[0])': \(synopsis)")
        }
        return true
    }

    /// For the main of a command that takes exactly one argument (wrap, unwrap): that argument, or nil with
    /// `exitStatus` set to how to end: 0 after -h/--help (the manual printed), or the error's code after bad input
    /// (its message printed).
    func singleArgument(_ arguments: [String], into options: inout Options, naming what: String,
                        exitStatus: inout Int32) -> String? {
        do throws(CorralError) {
            guard let rest = try parse(arguments, into: &options) else {
                Console.output(help)
                exitStatus = 0
                return nil
            }
            guard rest.count == 1 else {
                throw CorralError(.invalidConfiguration, rest.isEmpty
                    ? "no \(what) given: \(synopsis)" : "one \(what) at a time (got \(rest.count)): \(synopsis)")
            }
            return rest[0]
        } catch {
            Console.error(error.message)
            exitStatus = error.exitCode
            return nil
        }
    }

    private func option(named name: String) -> Option<Options>? {
        self.options.first { $0.names.contains(name) }
    }

    /// The manual page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS and whatever the footer adds (EXIT STATUS, EXAMPLES).
    var help: String {
        var text = "NAME\n    corral \(name) - \(abstract)\n\nSYNOPSIS\n    \(synopsis)\n"
        if !discussion.isEmpty { text += "\nDESCRIPTION\n" + Self.indent(discussion) }
        if !options.isEmpty {
            text += "\nOPTIONS\n"
            for option in self.options {
                text += "    " + option.names.joined(separator: ", ") + (option.value.map { " " + $0 } ?? "") + "\n"
                text += Self.indent(option.help, by: 8)
            }
            text += "    -h, --help\n        Print this help and exit.\n"
        }
        if !footer.isEmpty { text += "\n" + footer }
        return text
    }

    /// Indents every line and wraps none: help text is written pre-wrapped at 100 columns.
    static func indent(_ text: String, by spaces: Int = 4) -> String {
        let pad = String(repeating: " ", count: spaces)
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n") + "\n"
    }
}

extension CommandSpec where Options: ServerCommandOptions {
    /// Parses a command that starts a server: its options, then COMMAND [ARGUMENT...] into `options.server`.
    /// Returns false after printing the manual for -h or --help.
    func parseServerCommand(_ arguments: [String], into options: inout Options) throws(CorralError) -> Bool {
        guard let command = try parse(arguments, into: &options) else {
            Console.output(help)
            return false
        }
        guard let executable = command.first else {
            throw CorralError(.invalidConfiguration, "no command given: \(synopsis)")
        }
        options.server.executable = executable
        options.server.arguments = Array(command.dropFirst())
        return true
    }
}
