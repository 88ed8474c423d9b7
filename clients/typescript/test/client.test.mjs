// The TypeScript SDK against a live server: M6REC_BASE_URL and M6REC_API_KEY (a fresh tenant
// of the content domain, all scopes) are set by tests/clients/test_typescript_sdk.py.
// Without them only the tests that need no server run.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ApiError, M6RecClient, MAX_BATCH_ROWS, retryingFetch } from "../dist/index.js";

const baseUrl = process.env.M6REC_BASE_URL;
const apiKey = process.env.M6REC_API_KEY;
const live = { skip: !baseUrl || !apiKey ? "M6REC_BASE_URL/M6REC_API_KEY not set" : false };

function* itemRows(n) {
  for (let i = 0; i < n; i++) yield { item_id: `t${i}`, categories: [i % 2 ? "odd" : "even"] };
}

describe("against a live server", live, () => {
  const client = () => new M6RecClient({ baseUrl, apiKey });

  test("batched upserts and cursor pages", async () => {
    const m6 = client();
    const totals = await m6.upsertItems(itemRows(250), 100);
    assert.deepEqual(totals, { created: 250, updated: 0 });
    const seen = [];
    for await (const item of m6.items(60)) seen.push(item.item_id);
    assert.deepEqual(seen, [...itemRows(250)].map((r) => r.item_id));

    await m6.upsertUsers([{ user_id: "a" }, { user_id: "b" }]);
    const users = [];
    for await (const user of m6.users(1)) users.push(user.user_id);
    assert.deepEqual(users, ["a", "b"]);
  });

  test("interactions with both timestamp forms", async () => {
    const m6 = client();
    const totals = await m6.ingestInteractions([
      { user_id: "a", item_id: "t1", timestamp: "2024-05-01T12:30:00Z", event_id: "e1" },
      { user_id: "b", item_id: "t2", timestamp: 1714566600, event_id: "e2" },
    ]);
    assert.equal(totals.created, 2);
    const again = await m6.ingestInteractions([{ user_id: "a", item_id: "t1", event_id: "e1" }]);
    assert.equal(again.duplicate, 1);
  });

  test("errors are typed with row, field and message", async () => {
    const m6 = client();
    await assert.rejects(
      m6.ingestInteractions([{ user_id: "a", item_id: "t1" }, { user_id: "a" }]),
      (error) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.status, 400);
        assert.equal(error.code, "invalid");
        assert.equal(error.batchOffset, 0);
        assert.deepEqual(
          error.errors.map((e) => [e.row, e.field]),
          [[1, "item_id"]],
        );
        return true;
      },
    );
    const missing = await m6.api.GET("/api/v1/items/{item_id}", {
      params: { path: { item_id: "nope" } },
    });
    assert.equal(missing.response.status, 404);
    assert.equal(missing.error.error.code, "not_found");
    assert.throws(() => M6RecClient.unwrap(missing), (e) => e instanceof ApiError && e.status === 404);
  });

  test("recommendations, runs and versions", async () => {
    const m6 = client();
    const recs = await m6.recommend("a", { k: 3 });
    assert.equal(recs.strategy, "popularity");
    assert.equal(recs.model_version, null);
    assert.ok(recs.items.length <= 3);
    const versions = [];
    for await (const v of m6.versions()) versions.push(v);
    assert.deepEqual(versions, []);
    const page = await m6.api.GET("/api/v1/models/versions", { params: { query: { limit: 5 } } });
    assert.deepEqual(page.data, { next: null, previous: null, active: null, results: [] });
    const bad = await m6.api.GET("/api/v1/models/runs", { params: { query: { limit: 0 } } });
    assert.equal(bad.response.status, 400);
  });
});

describe("without a server", () => {
  test("429 and 503 are retried after Retry-After, then given up", async () => {
    const answers = [429, 503, 200];
    const seen = [];
    const fakeFetch = async (request) => {
      seen.push(await request.text());
      const status = answers.shift();
      return new Response(status === 200 ? '{"created":1,"updated":0}' : "{}", {
        status,
        headers: { "Retry-After": "0", "Content-Type": "application/json" },
      });
    };
    const m6 = new M6RecClient({ baseUrl: "http://sdk.test", apiKey: "k", fetch: fakeFetch });
    assert.deepEqual(await m6.upsertUsers([{ user_id: "u" }]), { created: 1, updated: 0 });
    assert.equal(seen.length, 3);
    assert.ok(seen.every((body) => body === '{"users":[{"user_id":"u"}]}'));

    let calls = 0;
    const always503 = retryingFetch({
      maxRetries: 2,
      maxRetryWaitMs: 1,
      fetch: async () => (calls++, new Response("{}", { status: 503 })),
    });
    const response = await always503(new Request("http://sdk.test/x"));
    assert.equal(response.status, 503);
    assert.equal(calls, 3);
  });

  test("batch size is bounded", async () => {
    const m6 = new M6RecClient({ baseUrl: "http://sdk.test", apiKey: "k" });
    await assert.rejects(m6.upsertItems([], MAX_BATCH_ROWS + 1), RangeError);
  });
});
