import Testing
@testable import FixServeService
