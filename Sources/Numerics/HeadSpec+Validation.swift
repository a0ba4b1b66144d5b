extension HeadSpec {
    /// The Sylvester order N′ = 2^⌈log₂ max(N, C)⌉ of a Hadamard head.
    var hadamardOrder: Int { FastWalshHadamard.order(atLeast: Swift.max(features, classes)) }

    /// The first Sylvester row a Hadamard head uses: 1 when the all-ones row is skipped.
    var hadamardFirstRow: Int { skipAllOnesRow ? 1 : 0 }

    /// The largest N·C a learned or orthonormal head may hold (and N for a Hadamard head): 2²⁶
    /// elements, 256 MiB of Float32 (the orthonormal head's Float64 sample is twice that).
    static let maximumMatrixElements = 1 << 26

    /// Checks that a head can be built from this specification (the head initialisers call it).
    ///
    /// Throws `invalidSpec` for non-positive or oversized dimensions or a non-finite α, and
    /// `moreClassesThanFeatures` when a fixed head has C > N.
    public func validate() throws {
        guard features >= 1 else { throw NumericsError.invalidSpec("a head needs at least one feature, got N = \(features)") }
        guard classes >= 1 else { throw NumericsError.invalidSpec("a head needs at least one class, got C = \(classes)") }
        guard alpha.isFinite else { throw NumericsError.invalidSpec("α must be finite, got \(alpha)") }
        let (elements, overflow) = kind == .hadamard
            ? (Swift.max(features, classes), false) : features.multipliedReportingOverflow(by: classes)
        guard !overflow, elements <= Self.maximumMatrixElements else {
            throw NumericsError.invalidSpec(
                "a \(kind.rawValue) head of N = \(features), C = \(classes) exceeds the limit of \(Self.maximumMatrixElements) matrix elements")
        }
        guard kind != .learned else { return }
        // Above N the fixed class vectors would have to repeat; refuse rather than duplicate them.
        guard classes <= features else {
            throw NumericsError.moreClassesThanFeatures(classes: classes, features: features, head: kind.rawValue)
        }
        if kind == .hadamard && skipAllOnesRow && classes + 1 > hadamardOrder {
            throw NumericsError.invalidSpec(
                "skipping the all-ones row needs C + 1 = \(classes + 1) Hadamard rows but N = \(features) gives only \(hadamardOrder); use N > C, or keep the all-ones row")
        }
    }
}
