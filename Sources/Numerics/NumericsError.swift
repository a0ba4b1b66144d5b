/// Errors raised when a network, a head or stored weights do not fit together.
public enum NumericsError: Error, Equatable, CustomStringConvertible {
    /// A fixed head cannot have more classes than features: its class vectors would repeat.
    case moreClassesThanFeatures(classes: Int, features: Int, head: String)
    /// A tensor was given under a name the network does not have.
    case unknownTensor(String)
    /// A tensor the network needs was not given.
    case missingTensor(String)
    /// A tensor's shape is not the one the network expects.
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    /// A layer or head specification is out of range, e.g. a zero kernel size.
    case invalidSpec(String)
    /// An input batch has the wrong shape for the network.
    case invalidInput(String)
    /// A LAPACK routine reported failure.
    case lapackFailure(routine: String, info: Int)

    public var description: String {
        switch self {
        case let .moreClassesThanFeatures(classes, features, head):
            return "the \(head) head needs at least as many features as classes (C ≤ N), got C = \(classes) > N = \(features); "
                + "widen the backbone's features or add a projection to at least \(classes)"
        case let .unknownTensor(name): return "unknown tensor '\(name)'"
        case let .missingTensor(name): return "missing tensor '\(name)'"
        case let .shapeMismatch(name, expected, actual):
            return "tensor '\(name)' has shape \(actual), expected \(expected)"
        case let .invalidSpec(detail): return "invalid specification: \(detail)"
        case let .invalidInput(detail): return "invalid input: \(detail)"
        case let .lapackFailure(routine, info): return "LAPACK \(routine) failed with info = \(info)"
        }
    }
}
