import Corral

/// What `--seccomp` takes: `default`, `log`, `none`, or a profile file.
enum SeccompChoice {
    static func profile(_ value: String) throws(CorralError) -> SeccompProfile? {
        switch value {
        case "default": .default
        case "log": SeccompProfile.default.auditingRefusals
        case "none": nil
        default: try SeccompProfile(contentsOf: value)
        }
    }
}
