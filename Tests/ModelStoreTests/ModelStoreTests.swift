import Testing
@testable import ModelStore
