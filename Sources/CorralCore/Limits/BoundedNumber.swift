/// Whole-number options with a fixed range, parsed in one place for `corral run`, `corral wrap` and the library.
package enum BoundedNumber {
    /// oom_score_adj, as the kernel takes it.
    package static let oomScoreAdjust = -1000...1000
    /// Consecutive fast failures that open a breaker.
    package static let breakerThreshold = 1...1000
    /// Instances of one server name at once.
    package static let maximumInstances = 1...100_000

    /// `value` as a decimal number within `range`; otherwise an error naming `field`.
    package static func parse(_ value: String, field: String, in range: ClosedRange<Int>) throws(CorralError) -> Int {
        guard let number = Int(value), range.contains(number) else {
            throw .invalid(field, value, "expected a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }
}
