internal import Glibc

/// The names in a directory (without "." and ".."), read in place. Never copy `readdir`'s `d_name`: the field is
/// 256 bytes, an entry is only as long as its name, and a copy of the last entry in readdir's buffer reads past
/// the buffer's end (swift-corelibs-foundation's `Process.run` crashes so in a process with ~1350 descriptors).
package enum DirectoryEntries {
    /// The names in an open directory stream, from its current position.
    package static func names(in directory: OpaquePointer) -> [String] {
        let offset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = String(cString: (UnsafeRawPointer(entry) + offset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The names in the directory at `path`; nil when it cannot be opened.
    package static func names(atPath path: String) -> [String]? {
        guard let directory = opendir(path) else { return nil }
        defer { closedir(directory) }
        return names(in: directory)
    }
}
