internal import Glibc

/// NUL-terminated copies of Swift strings for a C call, as a NULL-terminated pointer array (argv, envp, name lists).
/// Freed when the value is released.
final class CStringArray {
    /// The copies, followed by one nil.
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    deinit {
        for pointer in pointers { free(pointer) }
    }

    /// The i-th copy.
    subscript(i: Int) -> UnsafePointer<CChar> { UnsafePointer(pointers[i]!) }
}
