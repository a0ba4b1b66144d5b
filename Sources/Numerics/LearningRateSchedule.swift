import Foundation

/// The learning rate as a function of a step count t = 0, 1, 2, … (epochs or iterations,
/// whichever the caller counts): linear warm-up, then a decay.
///
/// During warm-up (t < `warmup`) the rate is base·(t + 1)/warmup, reaching base at t = warmup − 1.
/// After it, the decay gives the rate from t.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Decay: Codable, Equatable, Sendable {
        /// base for every t.
        case constant
        /// base·gamma^k, k the number of milestones ≤ t.
        case step(milestones: [Int], gamma: Float)
        /// From base at t = warmup down to `minimum` at t = total along half a cosine, then minimum.
        case cosine(total: Int, minimum: Float)
    }

    /// The rate after warm-up, before any decay.
    public var base: Float
    /// Warm-up length in steps (0 for none).
    public var warmup: Int
    public var decay: Decay

    public init(base: Float, warmup: Int = 0, decay: Decay = .constant) {
        self.base = base
        self.warmup = max(0, warmup)
        self.decay = decay
    }

    /// The rate at step `t` (t < 0 is treated as 0).
    public func value(at t: Int) -> Float {
        let t = max(0, t)
        if t < warmup { return base * Float(t + 1) / Float(warmup) }
        switch decay {
        case .constant:
            return base
        case let .step(milestones, gamma):
            return base * pow(gamma, Float(milestones.filter { $0 <= t }.count))
        case let .cosine(total, minimum):
            let length = total - warmup
            guard length > 0, t < total else { return minimum }
            let progress = Double(t - warmup) / Double(length)
            return minimum + (base - minimum) * Float((1 + cos(Double.pi * progress)) / 2)
        }
    }
}
