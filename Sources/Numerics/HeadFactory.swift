/// Builds the classification head that `spec` describes (learned weights from `spec.seed`).
///
/// Throws `moreClassesThanFeatures` for a fixed head with C > N, `invalidSpec` for bad sizes or
/// an impossible skipped row, `lapackFailure` if Q cannot be computed.
public func makeHead(_ spec: HeadSpec) throws -> any ClassificationHead {
    switch spec.kind {
    case .learned: return try LearnedHead(spec)
    case .orthonormal: return try OrthonormalHead(spec)
    case .hadamard: return try HadamardHead(spec)
    }
}

/// The dense [N, C] matrix M of a fixed head, with logits = α·x̂ᵀM + b and
/// x̂ = x / (‖x‖₂ + `FeatureNormalization.epsilon`): for export and cross-checks.
///
/// Throws `invalidSpec` for the learned head (its matrix is trained, not derived from the spec)
/// and the errors of `makeHead` for an invalid spec.
public func fixedHeadMatrix(_ spec: HeadSpec) throws -> Tensor {
    try spec.validate()
    switch spec.kind {
    case .learned: throw NumericsError.invalidSpec("the learned head has no fixed matrix; its weight is a stored parameter")
    case .orthonormal: return try OrthonormalHead.matrix(spec)
    case .hadamard: return HadamardHead.matrix(spec)
    }
}
