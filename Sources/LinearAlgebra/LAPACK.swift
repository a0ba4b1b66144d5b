import CLAPACKE

/// Double-precision LAPACK through LAPACKE. All matrices are row-major and contiguous.
public enum LAPACK {
    /// A LAPACK routine returned a non-zero `info`: negative means argument `-info` was
    /// illegal, positive a numerical failure reported by the routine.
    public struct Failure: Error, Equatable, Sendable {
        /// The LAPACK routine, e.g. `"dgeqrf"`.
        public let routine: String
        /// The routine's `info` result.
        public let info: Int
    }

    /// Replaces the row-major `rows × columns` matrix A (`rows ≥ columns`) by the Q of its thin
    /// QR factorisation A = QR: a `rows × columns` matrix with orthonormal columns.
    ///
    /// Q is made unique by choosing the signs that give R a non-negative diagonal, so the same A
    /// always yields the same Q. Throws `Failure` when LAPACK reports an error.
    public static func orthonormalizeColumns(_ a: inout [Double], rows: Int, columns: Int) throws {
        precondition(rows >= columns && columns >= 1, "thin QR needs rows ≥ columns ≥ 1, got \(rows)×\(columns)")
        precondition(a.count == rows * columns, "\(a.count) elements do not fill \(rows)×\(columns)")
        var tau = [Double](repeating: 0, count: columns)
        let m = Int32(rows), n = Int32(columns)
        let factored = a.withUnsafeMutableBufferPointer { a in
            LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, n, a.baseAddress, n, &tau)
        }
        guard factored == 0 else { throw Failure(routine: "dgeqrf", info: Int(factored)) }
        // R's diagonal is overwritten by dorgqr, so read its signs first.
        let signs = (0..<columns).map { a[$0 * columns + $0] < 0 ? -1.0 : 1.0 }
        let generated = a.withUnsafeMutableBufferPointer { a in
            LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, n, n, a.baseAddress, n, tau)
        }
        guard generated == 0 else { throw Failure(routine: "dorgqr", info: Int(generated)) }
        for i in 0..<rows {
            for j in 0..<columns where signs[j] < 0 { a[i * columns + j] = -a[i * columns + j] }
        }
    }
}
