internal import Glibc

/// NUL-terminated copies of Swift strings for a C call, as a NULL-terminated pointer array (argv, envp, name lists).
/// Freed when the value is released.
final class CStringArray: @unchecked Sendable {
    let count: Int
    /// `count` copies followed by one NULL, stable for the life of this object.
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: strings.count + 1)
        for (i, string) in strings.enumerated() { (pointers + i).initialize(to: strdup(string)) }
        (pointers + strings.count).initialize(to: nil)
    }

    deinit {
        for i in 0..<count { free(pointers[i]) }
        pointers.deallocate()
    }

    /// The i-th copy.
    subscript(i: Int) -> UnsafePointer<CChar> { UnsafePointer(pointers[i]!) }

    /// The array as `const char *const *` for C functions that take a list with a count.
    var constPointers: UnsafePointer<UnsafePointer<CChar>> {
        UnsafeRawPointer(pointers).assumingMemoryBound(to: UnsafePointer<CChar>.self)
    }
}
