// A partner's quickstart in TypeScript: types generated from
// openapi/openapi.json by openapi-typescript, requests by openapi-fetch
// (see examples/README.md).
//
//   npm ci && npm run generate && npm run check && npm run scenario
//   (ADOSEXO_URL, ADOSEXO_CLIENT_ID, ADOSEXO_CLIENT_SECRET)
//
// An app of a partner service (client credentials) sends a referral safely
// (Idempotency-Key), reads its timeline, books a first meeting in a free
// slot of a permanence, and downloads a guide from the resource library.

import { createHash, randomUUID } from "node:crypto";
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/api.js";

type Problem = components["schemas"]["Problem"];

/** The body of an expected answer; a problem (RFC 9457) stops the run. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }, status: number): T {
  if (result.response.status !== status || result.data === undefined) {
    const problem = result.error as Problem | undefined;
    throw new Error(`expected ${status}, got ${result.response.status}: ${JSON.stringify(problem)}`);
  }
  return result.data;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const baseUrl = process.env.ADOSEXO_URL ?? "http://127.0.0.1:8080";
const api = createClient<paths>({ baseUrl });

// 1. A token by client credentials (OAuth 2.0, form-encoded as RFC 6749 says).
const grant: Extract<components["schemas"]["TokenForm"], { grant_type: "client_credentials" }> = {
  grant_type: "client_credentials",
  client_id: env("ADOSEXO_CLIENT_ID"),
  client_secret: env("ADOSEXO_CLIENT_SECRET"),
  scope: "referrals:read referrals:write appointments:read appointments:write",
};
const token = ok(
  await api.POST("/api/v1/auth/token", {
    body: grant,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    bodySerializer: (body) =>
      new URLSearchParams(
        Object.entries(body).filter((e): e is [string, string] => typeof e[1] === "string"),
      ),
  }),
  200,
);
console.log(`token: ${token.token_type}, ${token.expires_in} s`);
api.use({
  onRequest({ request }) {
    request.headers.set("Authorization", `Bearer ${token.access_token}`);
    return request;
  },
});

// 2. A referral. The Idempotency-Key makes the retry below safe: the same
// key and body answer the first referral again, never a second one.
const referral: components["schemas"]["CreateReferral"] = {
  public: "young_person",
  context: "pre_prostitution",
  source: "partner_organisation",
  referrer: { name: "Mme Diallo, éducatrice ASE", contact: "01 43 93 00 00" },
  person: { first_name: "Lina", birth_date: "2011-04-02", departement_code: "93" },
  risk_indicators: ["runaway"],
  summary: "Fugues répétées depuis septembre, contacts avec des majeurs inconnus.",
  urgency: "urgent",
};
const key = randomUUID();
const send = () =>
  api.POST("/api/v1/referrals", { body: referral, params: { header: { "Idempotency-Key": key } } });
const created = ok(await send(), 201);
const again = ok(await send(), 201);
if (again.id !== created.id) throw new Error("a retry with the same key must be the same referral");
console.log(`referral ${created.reference} (${created.status})`);

// 3. Its timeline.
const read = ok(await api.GET("/api/v1/referrals/{id}", { params: { path: { id: created.id } } }), 200);
for (const step of read.timeline) console.log(`  ${step.at} ${step.action} -> ${step.to_status}`);
if (read.timeline.length === 0) throw new Error("a new referral has its submission in its timeline");

// 4. A first meeting: the free slots of the coming two weeks, then the first one.
const now = new Date();
const slots = ok(
  await api.GET("/api/v1/availability", {
    params: {
      query: {
        departement: "93",
        from: now.toISOString(),
        to: new Date(now.getTime() + 14 * 86_400_000).toISOString(),
        duration: 60,
      },
    },
  }),
  200,
);
const slot = slots[0];
if (!slot) throw new Error("the permanence has free slots");
const booked = ok(
  await api.POST("/api/v1/availability/bookings", {
    body: {
      referral_id: created.id,
      permanence_id: slot.permanence_id,
      starts_at: slot.starts_at,
      duration: 60,
    },
  }),
  201,
);
console.log(`first meeting ${booked.starts_at} (${booked.confirmation})`);

// 5. A guide from the resource library, checked against its SHA-256.
const page = ok(
  await api.GET("/api/v1/resources", { params: { query: { q: "éducation", audience: "professionals" } } }),
  200,
);
const guide = page.items.find((r) => r.file);
if (!guide?.file) throw new Error("the library has a guide with a file");
const download = await api.GET("/api/v1/resources/{id}/file", {
  params: { path: { id: guide.id } },
  parseAs: "arrayBuffer",
});
const bytes = Buffer.from(ok(download, 200));
if (createHash("sha256").update(bytes).digest("hex") !== guide.file.sha256) {
  throw new Error("the bytes are not the ones stored");
}
console.log(`downloaded "${guide.title}": ${bytes.length} bytes (${guide.file.media_type})`);
console.log("partner scenario (TypeScript): passed");
