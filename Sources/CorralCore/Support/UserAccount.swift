internal import Glibc

/// The account this process runs as.
package enum UserAccount {
    /// The login name of the real user (getpwuid), or the numeric UID when the passwd database has none.
    package static var currentName: String {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return String(getuid()) }
        return String(cString: name)
    }

    /// The home directory of `uid` in the passwd database (getpwuid), or nil.
    package static func home(of uid: UInt32) -> String? {
        guard let entry = getpwuid(uid), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }
}
