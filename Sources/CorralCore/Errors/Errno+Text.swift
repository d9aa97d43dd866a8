internal import Glibc

/// The text strerror(3) gives for an errno value.
package func errnoText(_ value: Int32) -> String {
    String(cString: strerror(value))
}
