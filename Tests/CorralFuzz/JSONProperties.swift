#if CORRAL_FUZZ
import Corral

/// Whatever parses, written compact or indented, parses to the same value; a syntax error points into the text.
enum JSONProperties {
    static func check(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        do {
            let value = try JSON(parsing: text)
            for written in [value.compactText, value.prettyText(indent: 2)] {
                require((try? JSON(parsing: written)) == value, "\(written.debugDescription) does not parse back to \(value)")
            }
        } catch {
            let lines = text.utf8.count { $0 == UInt8(ascii: "\n") } + 1
            require(error.line >= 1 && error.line <= lines && error.column >= 1, "\(error) is not inside the text")
        }
    }
}
#endif
