import Foundation
import Testing
@testable import Numerics

@Suite struct HeadStructureTests {
    @Test(arguments: [(12, 5), (16, 10), (64, 64), (100, 37)])
    func orthonormalColumnsAreOrthonormal(_ size: (Int, Int)) throws {
        let q = try fixedHeadMatrix(HeadSpec(kind: .orthonormal, features: size.0, classes: size.1, seed: 9))
        let (n, c) = size
        var worst = 0.0
        for a in 0..<c {
            for b in 0..<c {
                let dot = (0..<n).reduce(0.0) { $0 + Double(q.data[$1 * c + a]) * Double(q.data[$1 * c + b]) }
                worst = max(worst, abs(dot - (a == b ? 1 : 0)))
            }
        }
        #expect(worst < 1e-5, "max |QᵀQ − I| = \(worst) for N = \(n), C = \(c)")
    }

    @Test func theSeedAloneDeterminesQ() throws {
        let spec = HeadSpec(kind: .orthonormal, features: 32, classes: 8, seed: 5)
        let first = try fixedHeadMatrix(spec)
        #expect(try fixedHeadMatrix(spec) == first)
        #expect(try OrthonormalHead(spec).q == first)
        var other = spec
        other.seed = 6
        let different = try fixedHeadMatrix(other)
        let distance = zip(first.data, different.data).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(distance > 0.1, "seeds 5 and 6 gave matrices only \(distance) apart")
    }

    /// Q is the Q of A = QR for the seeded N×C Gaussian sample A, with R's diagonal positive on
    /// every column: R = QᵀA must be upper triangular with a positive diagonal equal to the
    /// diagonal an independent modified Gram–Schmidt in Double finds (whose |R_jj| is LAPACK's),
    /// and each column of Q must equal Gram–Schmidt's. One column with the other sign fails.
    @Test(arguments: [(20, 4), (16, 16), (100, 37)])
    func qHasTheSignsOfAPositiveRDiagonal(_ size: (Int, Int)) throws {
        let (n, c) = size
        let q = try fixedHeadMatrix(HeadSpec(kind: .orthonormal, features: n, classes: c, seed: 11))
        var generator = SeededGenerator(seed: 11)
        let a = (0..<(n * c)).map { _ in generator.nextGaussian() }
        func column(_ m: [Double], _ j: Int) -> [Double] { (0..<n).map { m[$0 * c + j] } }
        func dot(_ x: [Double], _ y: [Double]) -> Double { zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } }
        // Modified Gram–Schmidt: R_jj = ‖what is left of a_j‖ > 0 by construction.
        var reference: [[Double]] = []
        var referenceDiagonal: [Double] = []
        for j in 0..<c {
            var v = column(a, j)
            for u in reference {
                let r = dot(u, v)
                for i in 0..<n { v[i] -= r * u[i] }
            }
            let norm = dot(v, v).squareRoot()
            referenceDiagonal.append(norm)
            reference.append(v.map { $0 / norm })
        }
        let qd = q.data.map(Double.init)
        let scale = (0..<c).map { dot(column(a, $0), column(a, $0)).squareRoot() }.max() ?? 1
        for j in 0..<c {
            let qj = column(qd, j)
            let r = (0..<c).map { dot(column(qd, $0), column(a, j)) }
            #expect(r[j] > 0, "column \(j): R_jj = QᵀA[\(j)][\(j)] = \(r[j]) is not positive")
            #expect(abs(r[j] - referenceDiagonal[j]) <= 1e-5 * scale,
                    "column \(j): R_jj = \(r[j]), Gram–Schmidt gives \(referenceDiagonal[j])")
            let belowDiagonal = r[(j + 1)...].map(abs).max() ?? 0
            #expect(belowDiagonal <= 1e-5 * scale, "column \(j): |R_ij| up to \(belowDiagonal) below the diagonal")
            let difference = zip(qj, reference[j]).map { abs($0 - $1) }.max() ?? 0
            #expect(difference < 1e-6, "column \(j) of Q differs from Gram–Schmidt's by \(difference) (N = \(n), C = \(c))")
        }
    }

    @Test(arguments: [(12, 5, true), (12, 5, false), (16, 10, true), (16, 10, false), (100, 30, true)])
    func hadamardHeadEqualsTheExplicitProduct(_ size: (Int, Int, Bool)) throws {
        let (n, c, skip) = size
        let head = try HadamardHead(HeadSpec(kind: .hadamard, features: n, classes: c, alpha: 2.5, skipAllOnesRow: skip))
        var data = TestData(seed: 21)
        head.parameters.first { $0.name == "bias" }!.value.data = data.gaussian(c)
        let batch = 4
        let x = data.gaussian(batch * n)
        let reference = try HeadGradientTests.reference(for: head)
        // Check the matrix the reference uses against an independent definition once more.
        #expect(reference.matrix == HeadReference.hadamard(features: n, classes: c, firstRow: skip ? 1 : 0))
        let expected = reference.logits(x.map(Double.init))
        for training in [false, true] {
            let y = head.forward(Tensor(shape: [batch, n], data: x), training: training)
            let difference = maxAbsDifference(y.data, expected)
            #expect(difference < 1e-5, "max |FWHT head − ±1 product| = \(difference) (training: \(training))")
        }
    }

    @Test func fixedHeadMatrixGivesTheHeadsLogits() throws {
        for kind in [HeadKind.orthonormal, .hadamard] {
            let spec = HeadSpec(kind: kind, features: 24, classes: 7, alpha: 3, bias: false, seed: 2)
            let head = try makeHead(spec)
            let m = try fixedHeadMatrix(spec)
            #expect(m.shape == [24, 7])
            var data = TestData(seed: 4)
            let x = data.gaussian(24)
            let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot() + FeatureNormalization.epsilon
            let expected = (0..<7).map { c in (0..<24).reduce(0.0) { $0 + 3 * Double(x[$1] / norm) * Double(m.data[$1 * 7 + c]) } }
            let difference = maxAbsDifference(head.forward(Tensor(shape: [1, 24], data: x), training: false).data, expected)
            #expect(difference < 1e-5, "\(kind): max |head − α x̂ᵀM| = \(difference)")
        }
        #expect(throws: NumericsError.self) { try fixedHeadMatrix(HeadSpec(kind: .learned, features: 4, classes: 2)) }
    }

    @Test func fixedHeadsRefuseMoreClassesThanFeatures() {
        for kind in [HeadKind.orthonormal, .hadamard] {
            #expect(throws: NumericsError.moreClassesThanFeatures(classes: 11, features: 10, head: kind.rawValue)) {
                try makeHead(HeadSpec(kind: kind, features: 10, classes: 11))
            }
        }
        #expect((try? makeHead(HeadSpec(kind: .learned, features: 10, classes: 11))) != nil)
    }

    @Test func skippingTheAllOnesRowNeedsASpareRow() throws {
        // N = 16 = N′: 16 classes fit only with row 0.
        #expect(throws: NumericsError.self) {
            try makeHead(HeadSpec(kind: .hadamard, features: 16, classes: 16, skipAllOnesRow: true))
        }
        _ = try makeHead(HeadSpec(kind: .hadamard, features: 16, classes: 16, skipAllOnesRow: false))
        // N = 12 pads to 16, so rows 1…12 exist.
        _ = try makeHead(HeadSpec(kind: .hadamard, features: 12, classes: 12, skipAllOnesRow: true))
    }

    @Test func invalidSizesAreRefused() {
        for spec in [
            HeadSpec(kind: .learned, features: 0, classes: 3), HeadSpec(kind: .hadamard, features: 4, classes: 0),
            HeadSpec(kind: .orthonormal, features: 4, classes: 2, alpha: .nan),
            HeadSpec(kind: .orthonormal, features: 1 << 20, classes: 1 << 20),
            HeadSpec(kind: .learned, features: Int.max, classes: 2), HeadSpec(kind: .hadamard, features: 1 << 40, classes: 2),
        ] {
            #expect(throws: NumericsError.self) { try makeHead(spec) }
        }
    }

    @Test(arguments: [(16, 10, true), (16, 16, false), (12, 5, true), (12, 12, false), (100, 30, true), (37, 20, false)])
    func hadamardCoherenceMatchesBruteForce(_ size: (Int, Int, Bool)) throws {
        let (n, c, skip) = size
        let head = try HadamardHead(HeadSpec(kind: .hadamard, features: n, classes: c, skipAllOnesRow: skip))
        let m = HeadReference.hadamard(features: n, classes: c, firstRow: skip ? 1 : 0)
        var expected = 0.0
        for a in 0..<c {
            for b in (a + 1)..<c {
                let dot = (0..<n).reduce(0.0) { $0 + m[$1][a] * m[$1][b] }
                expected = max(expected, abs(dot) / Double(n))  // every column has norm √n
            }
        }
        #expect(abs(Double(head.coherence) - expected) < 1e-6, "coherence \(head.coherence), brute force \(expected)")
        if n & (n - 1) == 0 {
            #expect(head.coherence == 0)
        } else {
            #expect(head.coherence > 0)
        }
    }

    @Test func orthonormalCoherenceIsAtRoundingLevel() throws {
        let head = try OrthonormalHead(HeadSpec(kind: .orthonormal, features: 50, classes: 20, seed: 1))
        #expect(head.coherence < 1e-5)
    }

    @Test func storedBytesCountOnlyWhatIsTrained() {
        #expect(HeadSpec(kind: .learned, features: 2048, classes: 1000).storedHeadBytes == (2048 * 1000 + 1000) * 4)
        #expect(HeadSpec(kind: .hadamard, features: 2048, classes: 1000).storedHeadBytes == (1 + 1000) * 4)
        #expect(HeadSpec(kind: .orthonormal, features: 2048, classes: 1000, alphaLearned: false, bias: false).storedHeadBytes == 0)
    }

    @Test func parametersAreNamedForTheStore() throws {
        #expect(try makeHead(HeadSpec(kind: .learned, features: 8, classes: 3)).parameters.map(\.name) == ["weight", "bias"])
        #expect(try makeHead(HeadSpec(kind: .hadamard, features: 8, classes: 3)).parameters.map(\.name) == ["alpha", "bias"])
        #expect(try makeHead(HeadSpec(kind: .orthonormal, features: 8, classes: 3, alphaLearned: false)).parameters.map(\.name) == ["bias"])
        let alpha = try makeHead(HeadSpec(kind: .orthonormal, features: 8, classes: 3, alpha: 4.5)).parameters[0]
        #expect(alpha.value.shape == [1] && alpha.value.data == [4.5] && alpha.decays)
    }

    @Test func aZeroFeatureVectorGivesTheBias() throws {
        let head = try makeHead(HeadSpec(kind: .hadamard, features: 8, classes: 3))
        head.parameters[1].value.data = [1, 2, 3]
        let y = head.forward(Tensor(shape: [1, 8]), training: true)
        #expect(y.data == [1, 2, 3])
        let g = head.backward(Tensor(shape: [1, 3], data: [1, 1, 1]))
        #expect(g.data.allSatisfy { $0.isFinite })
    }

    @Test func batchingDoesNotChangeResults() throws {
        for kind in HeadKind.allCases {
            let head = try makeHead(HeadSpec(kind: kind, features: 40, classes: 9, seed: 3))
            var data = TestData(seed: 8)
            let x = data.gaussian(64 * 40)
            let batched = head.forward(Tensor(shape: [64, 40], data: x), training: false)
            let alone = head.forward(Tensor(shape: [1, 40], data: Array(x[(17 * 40)..<(18 * 40)])), training: false)
            let difference = zip(alone.data, batched.data[(17 * 9)..<(18 * 9)]).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            #expect(difference < 1e-5, "\(kind): row 17 alone vs in a batch of 64 differs by \(difference)")
        }
    }
}
