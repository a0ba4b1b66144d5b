/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, with
/// PyTorch's semantics (no dampening):
///
///     g ← ∇ + λ·θ   (λ only when `parameter.decays`)
///     v ← μ·v + g
///     θ ← θ − η·(g + μ·v)   with Nesterov,   θ − η·v   without.
///
/// The velocity of each parameter is kept between steps, keyed by the parameter object.
public final class SGD {
    /// η, changed by the caller between steps (e.g. from a `LearningRateSchedule`).
    public var learningRate: Float
    /// μ in [0, 1).
    public let momentum: Float
    /// Whether the step looks ahead along the velocity (requires momentum > 0 to matter).
    public let nesterov: Bool
    /// λ, applied to every parameter whose `decays` is true — α of a fixed head included.
    public let weightDecay: Float
    /// v per parameter, created at its first step with momentum (see `SGD+State.swift` for
    /// saving and restoring it).
    var velocities: [ObjectIdentifier: (parameter: Parameter, velocity: [Float])] = [:]

    /// Throws `invalidSpec` for a negative or non-finite rate or decay, or momentum outside [0, 1).
    public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) throws {
        guard learningRate.isFinite, learningRate >= 0 else {
            throw NumericsError.invalidSpec("the learning rate must be finite and ≥ 0, got \(learningRate)")
        }
        guard momentum >= 0, momentum < 1 else { throw NumericsError.invalidSpec("momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay.isFinite, weightDecay >= 0 else {
            throw NumericsError.invalidSpec("weight decay must be finite and ≥ 0, got \(weightDecay)")
        }
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
    }

    /// Updates every parameter from its accumulated gradient. Gradients are left as they are;
    /// call `zeroGradients` before the next backward pass.
    public func step(_ parameters: [Parameter]) {
        for parameter in parameters {
            let decay = parameter.decays ? weightDecay : 0
            let count = parameter.value.count
            precondition(parameter.gradient.count == count, "gradient of '\(parameter.name)' does not match its value")
            if momentum == 0 {
                for i in 0..<count {
                    parameter.value.data[i] -= learningRate * (parameter.gradient.data[i] + decay * parameter.value.data[i])
                }
                continue
            }
            let key = ObjectIdentifier(parameter)
            var velocity = velocities.removeValue(forKey: key)?.velocity ?? [Float](repeating: 0, count: count)
            for i in 0..<count {
                let g = parameter.gradient.data[i] + decay * parameter.value.data[i]
                velocity[i] = momentum * velocity[i] + g
                parameter.value.data[i] -= learningRate * (nesterov ? g + momentum * velocity[i] : velocity[i])
            }
            velocities[key] = (parameter, velocity)
        }
    }

    /// Sets every gradient to zero.
    public func zeroGradients(_ parameters: [Parameter]) {
        for parameter in parameters { parameter.zeroGradient() }
    }

    /// Forgets all velocities (e.g. when a new training run starts).
    public func reset() { velocities.removeAll() }
}
