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

extension SliceName {
    /// The leaf slice that holds one server's scope alone, named by the scope's id and nested in `slice` by the
    /// dash: `corral-1a2b3c4d.slice` in corral.slice for `corral-time-1a2b3c4d.scope`, `tools-corral-1a2b3c4d.slice`
    /// in tools-corral.slice, `1a2b3c4d.slice` in the root slice. Nil when `scope` is not a Corral scope name.
    public static func leaf(of scope: String, in slice: String) -> String? {
        guard scope.hasSuffix(".scope") else { return nil }
        let stem = scope.dropLast(".scope".count)
        let id = stem.suffix(8)
        guard id.count == 8, id.allSatisfy(\.isHexDigit), stem.dropLast(8).hasSuffix("-") else { return nil }
        return (slice == "-.slice" ? "" : slice.dropLast(".slice".count) + "-") + id + ".slice"
    }

    /// The Description= of a leaf slice names its scope and the process that watches it (and stops the leaf at
    /// the end), so that `corral gc` can tell a leaf slice from any other and whether its monitor is gone.
    public static func leafDescription(of scope: String, monitor: Int32) -> String {
        leafDescriptionPrefix + scope + ", watched by process \(monitor)"
    }

    /// The scope and monitor a leaf slice's Description= names; nil for a slice that is not a Corral leaf slice.
    /// (A scope name has no comma: systemd-escape writes one as \x2c.)
    public static func leaf(described description: String) -> (scope: String, monitor: Int32)? {
        guard description.hasPrefix(leafDescriptionPrefix) else { return nil }
        let parts = description.dropFirst(leafDescriptionPrefix.count).split(separator: ",", maxSplits: 1)
        let watcher = " watched by process "
        guard parts.count == 2, parts[1].hasPrefix(watcher), let monitor = Int32(parts[1].dropFirst(watcher.count))
        else { return nil }
        return (String(parts[0]), monitor)
    }

    private static let leafDescriptionPrefix = "Corral: the counters of "
}
