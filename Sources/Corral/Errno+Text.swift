import Glibc

/// The text strerror(3) gives for an errno value.
func errnoText(_ value: Int32) -> String {
    String(cString: strerror(value))
}
