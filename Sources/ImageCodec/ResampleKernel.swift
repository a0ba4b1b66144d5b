/// The resampling weights along one axis: output index `i` is
/// `Σ_t weights[i·taps + t] · source[starts[i] + t]`, every index in range, weights summing to 1.
struct ResampleKernel {
    let taps: Int
    let starts: [Int]
    let weights: [Float]

    init(source: Int, target: Int) {
        let scale = Double(source) / Double(target)
        var starts = [Int](repeating: 0, count: target)
        var weights: [Float]
        if scale >= 2 {
            // Area averaging: output i covers source interval [i·scale, (i+1)·scale).
            let taps = Int(scale.rounded(.up)) + 1
            weights = [Float](repeating: 0, count: target * taps)
            for i in 0..<target {
                let lo = Double(i) * scale, hi = min(Double(i + 1) * scale, Double(source))
                let first = Int(lo.rounded(.down))
                starts[i] = min(first, source - 1)
                for t in 0..<taps {
                    let index = first + t
                    guard index < source else { break }
                    let overlap = min(hi, Double(index + 1)) - max(lo, Double(index))
                    if overlap > 0 { weights[i * taps + t] = Float(overlap / scale) }
                }
            }
            self.taps = taps
        } else {
            weights = [Float](repeating: 0, count: target * 2)
            for i in 0..<target {
                let position = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(source - 1))
                let first = min(Int(position.rounded(.down)), max(source - 2, 0))
                let fraction = source == 1 ? 0 : position - Double(first)
                starts[i] = first
                weights[2 * i] = Float(1 - fraction)
                if source > 1 { weights[2 * i + 1] = Float(fraction) }
            }
            self.taps = 2
        }
        self.starts = starts
        self.weights = weights
    }
}
