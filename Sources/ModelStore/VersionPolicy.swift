/// Which versions of a model the repository serves (Triton's version policy).
///
/// JSON: `{"latest": {"numVersions": 2}}`, `{"all": {}}` or `{"specific": {"versions": [1, 3]}}`.
public enum VersionPolicy: Equatable, Sendable {
    /// The n highest versions that load.
    case latest(Int)
    /// Every version that loads.
    case all
    /// Exactly these versions, those that exist and load.
    case specific([Int])

    /// From `available` versions, the ones to try, highest first, and how many may be served.
    func candidates(from available: [Int]) -> (versions: [Int], limit: Int) {
        let descending = available.sorted(by: >)
        switch self {
        case let .latest(n): return (descending, n)
        case .all: return (descending, descending.count)
        case let .specific(wanted):
            let set = Set(wanted)
            let chosen = descending.filter { set.contains($0) }
            return (chosen, chosen.count)
        }
    }
}

extension VersionPolicy: Codable {
    private enum Key: String, CodingKey { case latest, all, specific }
    private enum Detail: String, CodingKey { case numVersions, versions }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: c.codingPath,
                debugDescription: "must hold exactly one of \"latest\", \"all\", \"specific\""))
        }
        switch key {
        case .latest:
            let detail = try c.nestedContainer(keyedBy: Detail.self, forKey: .latest)
            self = .latest(try detail.decode(Int.self, forKey: .numVersions))
        case .all:
            self = .all
        case .specific:
            let detail = try c.nestedContainer(keyedBy: Detail.self, forKey: .specific)
            self = .specific(try detail.decode([Int].self, forKey: .versions))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case let .latest(n):
            var detail = c.nestedContainer(keyedBy: Detail.self, forKey: .latest)
            try detail.encode(n, forKey: .numVersions)
        case .all:
            _ = c.nestedContainer(keyedBy: Detail.self, forKey: .all)
        case let .specific(versions):
            var detail = c.nestedContainer(keyedBy: Detail.self, forKey: .specific)
            try detail.encode(versions, forKey: .versions)
        }
    }
}
