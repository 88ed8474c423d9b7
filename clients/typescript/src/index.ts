/**
 * TypeScript client of the M6-Rec API.
 *
 * `paths` and `components` are generated from the API's OpenAPI schema (`make sdk`); requests
 * go through openapi-fetch, so every path, parameter and body is type-checked:
 *
 *   const m6 = new M6RecClient({ baseUrl: "http://127.0.0.1:8000", apiKey: "m6r_…" });
 *   await m6.upsertItems([{ item_id: "sku-1" }]);
 *   const recs = await m6.recommend("u1", { k: 10 });
 *   const { data } = await m6.api.GET("/api/v1/items/{item_id}", { params: { path: { item_id: "sku-1" } } });
 */
import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "./schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
export type ItemRow = Schemas["ItemRow"];
export type UserRow = Schemas["UserRow"];
export type InteractionRow = Schemas["InteractionRow"];
export type FieldError = Schemas["FieldError"];
export type ErrorDetails = Schemas["ErrorDetails"];

export const MAX_BATCH_ROWS = 10_000;
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
const TERMINAL_RUN_STATUSES = new Set(["succeeded", "failed", "cancelled"]);

/** The API answered an error: `{"error": {"code", "message", "details"}}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetails;
  /** For batched ingestion: the failed batch's first row in the whole input. */
  batchOffset?: number;

  constructor(status: number, code: string, message: string, details: ErrorDetails) {
    super(`${status} ${code}: ${message}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** `details.errors`: every problem of a rejected request by `row` and `field`. */
  get errors(): FieldError[] {
    return this.details.errors ?? [];
  }
}

export interface M6RecOptions {
  baseUrl: string;
  apiKey: string;
  /** Attempts after the first for 429 and 5xx (default 5), waiting `Retry-After` when sent. */
  maxRetries?: number;
  /** Cap on one wait, in milliseconds (default 60,000). */
  maxRetryWaitMs?: number;
  fetch?: typeof fetch;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fetch that retries 429/5xx (and refused connections), honouring `Retry-After`. */
export function retryingFetch(options: {
  maxRetries?: number;
  maxRetryWaitMs?: number;
  fetch?: typeof fetch;
}): (request: Request) => Promise<Response> {
  const maxRetries = options.maxRetries ?? 5;
  const cap = options.maxRetryWaitMs ?? 60_000;
  const inner = options.fetch ?? globalThis.fetch;
  return async (request: Request) => {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await inner(request.clone());
      } catch (error) {
        if (attempt >= maxRetries) throw error;
        await sleep(Math.min(cap, 500 * 2 ** attempt));
        continue;
      }
      if (!RETRY_STATUSES.has(response.status) || attempt >= maxRetries) return response;
      const header = response.headers.get("Retry-After");
      const seconds = header === null ? Number.NaN : Number(header);
      await response.body?.cancel();
      const wait = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 500 * 2 ** attempt;
      await sleep(Math.min(cap, wait));
    }
  };
}

function toApiError(response: Response, body: unknown): ApiError {
  const error = (body as { error?: { code?: string; message?: string; details?: ErrorDetails } })?.error;
  return new ApiError(
    response.status,
    error?.code ?? `http_${response.status}`,
    error?.message ?? response.statusText,
    error?.details ?? {},
  );
}

function cursorOf(next: string | null | undefined): string | undefined {
  return next ? (new URL(next).searchParams.get("cursor") ?? undefined) : undefined;
}

type Totals = Record<string, number>;

export class M6RecClient {
  /** The typed openapi-fetch client: any operation of the schema. */
  readonly api: Client<paths>;

  constructor(options: M6RecOptions) {
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/$/, ""),
      headers: { Authorization: `Bearer ${options.apiKey}` },
      fetch: retryingFetch(options),
    });
  }

  /** The data of an openapi-fetch result, or the typed error thrown. */
  static unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
    if (result.error !== undefined || !result.response.ok) {
      throw toApiError(result.response, result.error);
    }
    return result.data as T;
  }

  private async ingest<K extends "items" | "users" | "interactions">(
    key: K,
    rows: Iterable<unknown> | AsyncIterable<unknown>,
    batchSize: number,
  ): Promise<Totals> {
    if (!(batchSize >= 1 && batchSize <= MAX_BATCH_ROWS)) {
      throw new RangeError(`batchSize must be 1..${MAX_BATCH_ROWS}`);
    }
    const totals: Totals = {};
    let batch: unknown[] = [];
    let offset = 0;
    const flush = async () => {
      const result = await this.api.POST(`/api/v1/${key}` as "/api/v1/items", {
        body: { [key]: batch } as never,
      });
      try {
        const data = M6RecClient.unwrap(result) as unknown as Totals;
        for (const [name, value] of Object.entries(data)) {
          if (typeof value === "number") totals[name] = (totals[name] ?? 0) + value;
        }
      } catch (error) {
        if (error instanceof ApiError) error.batchOffset = offset;
        throw error;
      }
      offset += batch.length;
      batch = [];
    };
    for await (const row of rows as AsyncIterable<unknown>) {
      batch.push(row);
      if (batch.length >= batchSize) await flush();
    }
    if (batch.length) await flush();
    return totals;
  }

  /** Upsert items from any (async) iterable, `batchSize` rows a request; summed counts. */
  upsertItems(rows: Iterable<ItemRow> | AsyncIterable<ItemRow>, batchSize = MAX_BATCH_ROWS) {
    return this.ingest("items", rows, batchSize);
  }

  upsertUsers(rows: Iterable<UserRow> | AsyncIterable<UserRow>, batchSize = MAX_BATCH_ROWS) {
    return this.ingest("users", rows, batchSize);
  }

  ingestInteractions(
    rows: Iterable<InteractionRow> | AsyncIterable<InteractionRow>,
    batchSize = MAX_BATCH_ROWS,
  ) {
    return this.ingest("interactions", rows, batchSize);
  }

  private async *list<P extends "/api/v1/items" | "/api/v1/users" | "/api/v1/models/runs" | "/api/v1/models/versions">(
    path: P,
    limit?: number,
  ) {
    let cursor: string | undefined;
    do {
      const page = M6RecClient.unwrap(
        await this.api.GET(path as "/api/v1/items", { params: { query: { cursor, limit } } }),
      ) as { next: string | null; results: unknown[] };
      yield* page.results;
      cursor = cursorOf(page.next);
    } while (cursor);
  }

  /** Every item, following the cursor pages. */
  items(limit?: number): AsyncGenerator<Schemas["ItemOutput"]> {
    return this.list("/api/v1/items", limit) as AsyncGenerator<Schemas["ItemOutput"]>;
  }

  users(limit?: number): AsyncGenerator<Schemas["UserOutput"]> {
    return this.list("/api/v1/users", limit) as AsyncGenerator<Schemas["UserOutput"]>;
  }

  runs(limit?: number): AsyncGenerator<Schemas["RunOutput"]> {
    return this.list("/api/v1/models/runs", limit) as AsyncGenerator<Schemas["RunOutput"]>;
  }

  versions(limit?: number): AsyncGenerator<Schemas["VersionOutput"]> {
    return this.list("/api/v1/models/versions", limit) as AsyncGenerator<Schemas["VersionOutput"]>;
  }

  async train() {
    return M6RecClient.unwrap(await this.api.POST("/api/v1/models/train", {}));
  }

  async getRun(runId: number) {
    return M6RecClient.unwrap(
      await this.api.GET("/api/v1/models/runs/{run_id}", { params: { path: { run_id: runId } } }),
    );
  }

  /** Poll a run until it succeeded, failed or was cancelled. */
  async waitForRun(runId: number, { timeoutMs = 3_600_000, pollMs = 2_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const run = await this.getRun(runId);
      if (TERMINAL_RUN_STATUSES.has(run.status)) return run;
      if (Date.now() > deadline) throw new Error(`training run ${runId} still ${run.status}`);
      await sleep(pollMs);
    }
  }

  async recommend(
    userId: string,
    query: NonNullable<paths["/api/v1/users/{user_id}/recommendations"]["get"]["parameters"]["query"]> = {},
  ) {
    return M6RecClient.unwrap(
      await this.api.GET("/api/v1/users/{user_id}/recommendations", {
        params: { path: { user_id: userId }, query },
      }),
    );
  }
}
