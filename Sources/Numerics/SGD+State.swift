/// The optimiser's state between steps, so a training run can stop and continue with exactly
/// the steps it would have taken.
extension SGD {
    /// Each parameter's velocity v, in the order of `parameters`; nil for a parameter that has
    /// not been stepped with momentum yet (its first step starts from no velocity at all).
    public func velocities(of parameters: [Parameter]) -> [[Float]?] {
        parameters.map { velocities[ObjectIdentifier($0)]?.velocity }
    }

    /// Replaces every velocity with the saved ones, given in the order of `parameters`.
    ///
    /// Nothing changes unless every saved velocity fits its parameter.
    /// - Throws: `NumericsError.invalidSpec` when the counts of parameters and velocities
    ///   differ, or a velocity's length is not its parameter's element count.
    public func restoreVelocities(_ saved: [[Float]?], of parameters: [Parameter]) throws {
        guard saved.count == parameters.count else {
            throw NumericsError.invalidSpec("\(saved.count) saved velocities for \(parameters.count) parameters")
        }
        for (parameter, velocity) in zip(parameters, saved) {
            if let velocity, velocity.count != parameter.value.count {
                throw NumericsError.invalidSpec(
                    "the saved velocity of '\(parameter.name)' has \(velocity.count) elements, the parameter \(parameter.value.count)")
            }
        }
        velocities.removeAll()
        for (parameter, velocity) in zip(parameters, saved) {
            if let velocity { velocities[ObjectIdentifier(parameter)] = (parameter, velocity) }
        }
    }
}
