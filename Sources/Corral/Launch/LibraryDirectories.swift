internal import Glibc

/// Where the dynamic loader will look for a program's libraries beyond the system's directories, so that a
/// sandbox that lets the program run also lets it load them: the program's own RUNPATH or RPATH (with $ORIGIN),
/// LD_LIBRARY_PATH, and the directories /etc/ld.so.conf names.
enum LibraryDirectories {
    /// The directories for `program` (a path) run with `environment`.
    static func of(_ program: String, environment: [String]) -> [String] {
        let origin = FilePath.parent(of: FilePath.resolved(program) ?? program)
        let own = (runPath(of: program)?.split(separator: ":").map(String.init) ?? [])
            .map { $0.replacing("${ORIGIN}", with: origin).replacing("$ORIGIN", with: origin) }
        let variable = environment.last { $0.hasPrefix("LD_LIBRARY_PATH=") }
            .map { $0.dropFirst("LD_LIBRARY_PATH=".count).split(separator: ":").map(String.init) } ?? []
        return (own + variable + configured()).filter { $0.hasPrefix("/") }
    }

    /// The directories of /etc/ld.so.conf and the files it includes (one level of `include` with a * pattern).
    static func configured(_ file: String = "/etc/ld.so.conf") -> [String] {
        var directories: [String] = []
        for line in (FileText.read(file) ?? "").split(separator: "\n") {
            let text = line.prefix { $0 != "#" }.trimmingWhitespace()
            if text.hasPrefix("include ") {
                var matches = glob_t()
                defer { globfree(&matches) }
                guard glob(String(text.dropFirst("include ".count)).trimmingWhitespace(), 0, nil, &matches) == 0 else { continue }
                for i in 0..<Int(matches.gl_pathc) {
                    guard let path = matches.gl_pathv[i] else { continue }
                    directories += (FileText.read(String(cString: path)) ?? "").split(separator: "\n")
                        .map { $0.prefix { $0 != "#" }.trimmingWhitespace() }.filter { $0.hasPrefix("/") }
                }
            } else if text.hasPrefix("/") {
                directories.append(text)
            }
        }
        return directories
    }

    /// DT_RUNPATH (else DT_RPATH) of a 64-bit little-endian ELF file; nil for anything else.
    static func runPath(of program: String) -> String? {
        let fd = open(program, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        func read(_ offset: UInt64, _ count: Int, exactly: Bool = true) -> [UInt8]? {
            var bytes = [UInt8](repeating: 0, count: count)
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return n == count || (!exactly && n > 0) ? Array(bytes.prefix(n)) : nil
        }
        func number(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
            (0..<size).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
        }
        guard let header = read(0, 64), header[0..<4] == [0x7f, 0x45, 0x4c, 0x46], header[4] == 2, header[5] == 1 else { return nil }
        let tableOffset = number(header, 32, 8), entrySize = Int(number(header, 54, 2)), count = Int(number(header, 56, 2))
        guard entrySize >= 56, count < 256, let table = read(tableOffset, entrySize * count) else { return nil }
        // The loadable segments map addresses to file offsets; PT_DYNAMIC holds the dynamic entries.
        var loads: [(address: UInt64, offset: UInt64, size: UInt64)] = []
        var dynamic: (offset: UInt64, size: UInt64)?
        for i in 0..<count {
            let at = i * entrySize, type = number(table, at, 4)
            if type == 1 { loads.append((number(table, at + 16, 8), number(table, at + 8, 8), number(table, at + 32, 8))) }
            if type == 2 { dynamic = (number(table, at + 8, 8), number(table, at + 32, 8)) }
        }
        guard let dynamic, dynamic.size < 1 << 20, let entries = read(dynamic.offset, Int(dynamic.size)) else { return nil }
        var strings: UInt64?, runPath: UInt64?, rPath: UInt64?
        for at in stride(from: 0, to: entries.count - 15, by: 16) {
            switch number(entries, at, 8) {
            case 5: strings = number(entries, at + 8, 8)  // DT_STRTAB
            case 29: runPath = number(entries, at + 8, 8)  // DT_RUNPATH
            case 15: rPath = number(entries, at + 8, 8)  // DT_RPATH
            default: break
            }
        }
        guard let strings, let index = runPath ?? rPath,
              let load = loads.first(where: { strings >= $0.address && strings < $0.address + $0.size }),
              let text = read(strings - load.address + load.offset + index, 4096, exactly: false) else { return nil }
        return String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
    }

}
