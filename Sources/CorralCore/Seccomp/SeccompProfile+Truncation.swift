extension SeccompProfile {
    /// The syscalls `refusingTruncation` adds rules for.
    static let truncationSyscalls = ["truncate", "open", "openat", "openat2"]

    /// This profile with the truncations refused that Landlock before ABI 3 (Linux 6.2) lets through under `--read`
    /// and `--write`: truncate(2) by path, and open and openat with O_TRUNC but without write access (a file opened
    /// for reading only is still truncated, and Landlock checks only the read). They fail with EACCES, as Landlock
    /// refuses; openat2, whose flags seccomp cannot see, answers ENOSYS (glibc's open does not use it). ftruncate
    /// and O_TRUNC with write access need a file Landlock let the server open for writing, so they stay. Cost:
    /// truncate(2) fails under --write too. nil when the profile already has a rule for one of these syscalls
    /// (their order would be ambiguous) or allows nothing by default (it then decides for itself).
    public func refusingTruncation() -> SeccompProfile? {
        guard defaultAction == .allow || defaultAction == .log,
              !rules.contains(where: { !Set($0.syscalls).isDisjoint(with: Self.truncationSyscalls) }) else { return nil }
        let readOnlyTruncation = { (index: UInt32) in
            // (flags & (O_ACCMODE | O_TRUNC)) == O_TRUNC: O_RDONLY is 0.
            [Condition(index: index, op: .maskedEqual, value: 0o1003, valueTwo: 0o1000)]
        }
        var profile = self
        profile.rules += [
            Rule(["truncate"], .errno(13)),  // EACCES
            Rule(["open"], .errno(13), conditions: readOnlyTruncation(1)),
            Rule(["openat"], .errno(13), conditions: readOnlyTruncation(2)),
            Rule(["openat2"], .errno(38)),  // ENOSYS
        ]
        return profile
    }
}
