/// Slice unit names, checked the way systemd checks them.
public enum SliceName {
    /// Checks that `slice` is a slice unit name systemd accepts (its slice_name_is_valid): letters, digits and
    /// ":_.\\-", at most 255 characters, ending in .slice, no leading, trailing or doubled "-" (a dash nests a slice
    /// in its parent: a-b.slice lives in a.slice); "-.slice" is the root slice. `field` names the option in the error.
    public static func validate(_ slice: String, field: String = "slice") throws(CorralError) {
        let stem = slice.hasSuffix(".slice") ? slice.dropLast(".slice".count) : ""
        let valid = slice == "-.slice" || (
            !stem.isEmpty && slice.utf8.count <= 255
                && stem.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || ":_.\\-".contains($0)) }
                && !stem.hasPrefix("-") && !stem.hasSuffix("-") && !stem.contains("--"))
        guard valid else {
            throw .invalid(field, slice, "expected a slice unit name such as corral.slice or tools-corral.slice "
                + "(letters, digits, ':', '_', '.', '\\', and '-' only between parts)")
        }
    }
}
