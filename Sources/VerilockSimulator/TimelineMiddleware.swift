import Hummingbird

/// Counts every answer of the API routes in the simulator's timeline (a dropped connection as 0).
struct TimelineMiddleware: RouterMiddleware {
    let state: SimulatorState

    func handle(
        _ request: Request,
        context: SimulatorRequestContext,
        next: (Request, SimulatorRequestContext) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path.hasPrefix("/api/") else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            await state.recordAnswer(status: Int(response.status.code))
            return response
        } catch {
            await state.recordAnswer(status: 0)
            throw error
        }
    }
}
