import Foundation
import GenerateAPI
import SparrowServer
import Testing

@testable import HubClient

/// `HubModelBackend`, the server's way to Hub names: cached ones are served, uncached ones are a
/// 404 saying how to pull them unless downloads are allowed, and a download holds up no other model.
@Suite struct ServerBackendTests {
    let name = "owner/model-GGUF"

    func baseEngine() -> Engine {
        Engine(configuration: .init(registry: ModelRegistry(allowsPaths: false), defaultModel: DefaultModel.name))
    }

    func repos(_ file: MockFile) -> [String: MockRepo] {
        [name: MockRepo(files: ["model-Q4_K_M.gguf": file, "README.md": MockFile("readme")])]
    }

    @Test func uncachedNameIsA404ThatSaysHowToPull() async throws {
        try await MockHub.with(repos(MockFile(bytes: bytes(1_000)))) { hub in
            try await TempCache.with { temp in
                let backend = HubModelBackend(base: baseEngine(), hub: temp.client(hub), allowsDownload: false)
                do {
                    _ = try await backend.admit(GenerateRequest(model: name, prompt: "Hi"))
                    Issue.record("expected a 404")
                } catch let error as APIError {
                    #expect(error.status == .notFound && error.code == "model_not_found")
                    #expect(error.message.contains("sparrow pull \(name)") && error.message.contains("--allow-download"))
                }
                #expect(hub.log.isEmpty)
                #expect(!(await backend.modelNames()).contains(name))
            }
        }
    }

    @Test func allowedDownloadHappensOnceThenServesFromTheCache() async throws {
        try await MockHub.with(repos(MockFile(bytes: bytes(2_000)))) { hub in
            try await TempCache.with { temp in
                let backend = HubModelBackend(base: baseEngine(), hub: temp.client(hub), allowsDownload: true)
                async let first = backend.admit(GenerateRequest(model: name, prompt: "Hi"))
                async let second = backend.admit(GenerateRequest(model: name, prompt: "Hello"))
                let admissions = try await [first, second]
                #expect(admissions.allSatisfy { $0.modelName == name })
                #expect(hub.count("GET", "/lfs/") == 1)
                #expect(await backend.modelNames().contains(name))

                // A new server over the same cache serves it without a request and lists it.
                let requests = hub.log.count
                let later = HubModelBackend(base: baseEngine(), hub: temp.client(hub), allowsDownload: false)
                #expect(await later.modelNames().contains(name))
                #expect(try await later.admit(GenerateRequest(model: name, prompt: "Hi")).modelName == name)
                #expect(hub.log.count == requests)

                // An unknown repository with downloads allowed: the Hub's 404, as the API's 404.
                do {
                    _ = try await backend.admit(GenerateRequest(model: "nobody/nothing", prompt: "Hi"))
                    Issue.record("expected a 404")
                } catch let error as APIError {
                    #expect(error.status == .notFound)
                }
            }
        }
    }

    @Test func aDownloadDoesNotHoldUpOtherModels() async throws {
        var file = MockFile(bytes: bytes(8_000))
        file.heldUntilReleased = true
        try await MockHub.with(repos(file)) { hub in
            try await TempCache.with { temp in
                let backend = HubModelBackend(base: baseEngine(), hub: temp.client(hub), allowsDownload: true)
                let download = Task { try await backend.admit(GenerateRequest(model: name, prompt: "Hi")) }
                // A watchdog, so that a backend that did block fails the test instead of hanging it.
                // Long, because a busy pool can hold the download up for minutes without blocking.
                let watchdog = Task {
                    try await Task.sleep(for: .seconds(900))
                    hub.release()
                }
                #expect(await TestWait.until { hub.count("GET", "/lfs/") == 1 })
                // The download's body is held; the default model answers meanwhile (a mock response
                // needs no file), and a second request for the downloading model shares its download.
                let shared = Task { try await backend.admit(GenerateRequest(model: name, prompt: "Hello")) }
                let other = try await backend.generate(request: GenerateRequest(prompt: "Hi", mockResponse: true))
                #expect(!other.choices.isEmpty)
                #expect(!hub.isReleased, "the other model waited for the download")
                hub.release()
                #expect(try await download.value.modelName == name)
                #expect(try await shared.value.modelName == name)
                #expect(hub.count("GET", "/lfs/") == 1)
                watchdog.cancel()
            }
        }
    }
}

enum TestWait {
    /// Polls `condition` every 5 ms, at most `seconds` / 5 ms times. The bound counts polls, not
    /// wall-clock time: a full parallel `swift test` can keep the cooperative pool busy for minutes,
    /// and then the waiter and the work it waits for are held up alike; a wall-clock deadline
    /// would expire while neither could run.
    static func until(_ seconds: Double = 120, _ condition: @Sendable () -> Bool) async -> Bool {
        for _ in 0..<Int(seconds * 200) {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition()
    }
}
