import Testing
@testable import Numerics

@Suite struct FastWalshHadamardTests {
    /// Every length from 1 to 1024 against the explicit product with H[i][j] = (−1)^popcount(i & j),
    /// evaluated in Double; tolerance 1e-4 relative to √n (the size of the outputs).
    @Test(arguments: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024])
    func matchesTheExplicitMatrixProduct(_ n: Int) {
        var data = TestData(seed: UInt64(n))
        let x = data.gaussian(n)
        let expected = (0..<n).map { i in
            (0..<n).reduce(0.0) { $0 + Double(x[$1]) * ((i & $1).nonzeroBitCount % 2 == 0 ? 1 : -1) }
        }
        var y = x
        y.withUnsafeMutableBufferPointer { FastWalshHadamard.transform($0.baseAddress!, count: n) }
        let difference = maxAbsDifference(y, expected)
        #expect(difference < 1e-4 * Double(n).squareRoot(), "max |FWHT − Hx| = \(difference) for n = \(n)")
    }

    @Test func appliedTwiceScalesByTheOrder() {
        let n = 256
        var data = TestData(seed: 3)
        let x = data.gaussian(n)
        var y = x
        y.withUnsafeMutableBufferPointer {
            FastWalshHadamard.transform($0.baseAddress!, count: n)
            FastWalshHadamard.transform($0.baseAddress!, count: n)
        }
        let difference = maxAbsDifference(y.map { $0 / Float(n) }, x.map(Double.init))
        #expect(difference < 1e-5, "max |HHx/n − x| = \(difference)")
    }

    /// The copying form pads with zeros and returns Σ x²; tails that are not whole vectors included.
    @Test(arguments: [(3, 4), (5, 8), (37, 64), (64, 64), (100, 128)])
    func copyingTransformPadsAndReturnsTheSquaredNorm(_ size: (Int, Int)) {
        let (n, order) = size
        var data = TestData(seed: UInt64(n))
        let x = data.gaussian(n)
        var expected = x + [Float](repeating: 0, count: order - n)
        expected.withUnsafeMutableBufferPointer { FastWalshHadamard.transform($0.baseAddress!, count: order) }
        var buffer = [Float](repeating: .nan, count: order)
        let squares = x.withUnsafeBufferPointer { x in
            buffer.withUnsafeMutableBufferPointer {
                FastWalshHadamard.transform(copying: x.baseAddress!, count: n, into: $0.baseAddress!, order: order)
            }
        }
        let difference = maxAbsDifference(buffer, expected.map(Double.init))
        #expect(difference < 1e-4, "max difference \(difference) for n = \(n), order = \(order)")
        let norm = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        #expect(abs(Double(squares) - norm) < 1e-4 * norm, "Σx² = \(squares), expected \(norm)")
    }

    @Test func orderIsTheNextPowerOfTwo() {
        #expect([0, 1, 2, 3, 5, 12, 16, 17, 1000, 2048].map(FastWalshHadamard.order(atLeast:))
            == [1, 1, 2, 4, 8, 16, 16, 32, 1024, 2048])
    }
}
