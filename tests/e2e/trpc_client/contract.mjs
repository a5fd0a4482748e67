// Contract test: the OFFICIAL tRPC v11 client (+ superjson) against a live `commsinbox serve`.
//
//   CONTRACT_BASE_URL=http://127.0.0.1:8080 CONTRACT_EMAIL=... CONTRACT_PASSWORD=... \
//   CONTRACT_TEAM_ID=... node --test contract.mjs
//
// Run by tests/e2e/test_live_server.py, which starts the server and creates the user and team.
// No router type is imported: the client is untyped, so every procedure is reached through the
// client's proxy by its dotted path, exactly as the wire protocol names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { TRPCClientError, createTRPCClient, httpBatchLink, httpLink, httpSubscriptionLink } from '@trpc/client';
import { EventSource } from 'eventsource';
import superjson from 'superjson';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (see the header of contract.mjs)`);
  return value;
}

const TRPC_URL = `${required('CONTRACT_BASE_URL').replace(/\/+$/, '')}/trpc`;
const EMAIL = required('CONTRACT_EMAIL');
const PASSWORD = required('CONTRACT_PASSWORD');
const TEAM_ID = required('CONTRACT_TEAM_ID');

/**
 * A client over `httpBatchLink` (default) or `httpLink`, whose `fetch` records every HTTP request
 * it really makes (method, URL, response status): how we prove batching and read HTTP statuses.
 */
function makeClient({ batch = true, token, teamId = TEAM_ID } = {}) {
  const requests = [];
  const countingFetch = async (url, init) => {
    const response = await globalThis.fetch(url, init);
    requests.push({ method: init?.method ?? 'GET', url: new URL(String(url)), status: response.status });
    return response;
  };
  const options = {
    url: TRPC_URL,
    transformer: superjson,
    fetch: countingFetch,
    headers: () => ({
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(teamId ? { 'x-team-id': teamId } : {}),
    }),
  };
  const link = batch ? httpBatchLink(options) : httpLink(options);
  return { client: createTRPCClient({ links: [link] }), requests };
}

// One login for the whole file (the server rate-limits logins); the first test asserts on it.
let loginPromise;
function login() {
  loginPromise ??= makeClient({ batch: false, teamId: null }).client.auth.login.mutate({ email: EMAIL, password: PASSWORD });
  return loginPromise;
}

async function signedIn(options = {}) {
  const { token } = await login();
  return makeClient({ token, ...options });
}

/** Awaits `promise`, which must reject with a TRPCClientError of `code` / HTTP `httpStatus`. */
async function rejectsWith(promise, code, httpStatus) {
  let error;
  try {
    const value = await promise;
    assert.fail(`expected a ${code} error, but the call succeeded with ${JSON.stringify(value)}`);
  } catch (caught) {
    if (caught instanceof assert.AssertionError) throw caught;
    error = caught;
  }
  assert.ok(error instanceof TRPCClientError, `expected a TRPCClientError, got ${error?.stack ?? error}`);
  assert.equal(error.data?.code, code, `error.data was ${JSON.stringify(error.data)} (message: ${error.message})`);
  assert.equal(error.data.httpStatus, httpStatus);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0, 'the error carries a message');
  assert.equal(typeof error.shape?.code, 'number', 'the shape has a JSON-RPC code');
  return error;
}

function assertRecentDate(value, label) {
  assert.ok(value instanceof Date, `${label} should be a Date, got ${Object.prototype.toString.call(value)}: ${value}`);
  assert.ok(!Number.isNaN(value.getTime()), `${label} is an Invalid Date`);
  assert.ok(Math.abs(Date.now() - value.getTime()) < 10 * 60 * 1000, `${label} ${value.toISOString()} is not recent`);
}

test('auth.login (mutation over httpLink) returns a token, the user and their teams', async () => {
  const { token, user, teams } = await login();
  assert.equal(typeof token, 'string');
  assert.ok(token.length >= 20, 'a token of reasonable length');
  assert.equal(user.email, EMAIL);
  assert.equal(typeof user.id, 'string');
  assert.ok('fullName' in user, 'user.fullName is present (null allowed)');
  assert.deepEqual(teams.map((t) => t.id), [TEAM_ID]);
  assert.equal(teams[0].role, 'owner');

  // Wrong password: an error the client understands, not a token.
  const { client } = makeClient({ batch: false, teamId: null });
  await rejectsWith(client.auth.login.mutate({ email: EMAIL, password: `${PASSWORD}-wrong` }), 'UNAUTHORIZED', 401);
});

test('auth.whoami (query) knows the user and the team chosen by x-team-id', async () => {
  const { client, requests } = await signedIn();
  const me = await client.auth.whoami.query();
  assert.equal(me.user.email, EMAIL);
  assert.deepEqual(me.teams.map((t) => t.id), [TEAM_ID]);
  assert.equal(me.team?.id, TEAM_ID);
  assert.equal(me.team.role, 'owner');
  assert.equal(requests.length, 1);
  assert.equal(requests[0].method, 'GET', 'queries are GET requests');
  assert.equal(requests[0].status, 200);
});

test('core.clients.create (mutation) returns createdAt as a JS Date; get/list agree over both links', async () => {
  const { client, requests } = await signedIn();
  const name = `Contract client ${randomUUID()}`;
  const created = await client.core.clients.create.mutate({ name, phone: '+55 11 98765-4321' });
  assert.equal(requests.at(-1).method, 'POST', 'mutations are POST requests');
  assert.equal(created.name, name);
  assert.equal(created.phone, '+5511987654321', 'the phone comes back in E.164');
  assert.equal(created.email, null);
  assert.match(created.id, /^[0-9a-f-]{36}$/);
  assertRecentDate(created.createdAt, 'clients.create createdAt');

  const viaHttpLink = makeClient({ batch: false, token: (await login()).token }).client;
  const fetched = await viaHttpLink.core.clients.get.query({ id: created.id });
  assert.equal(fetched.id, created.id);
  assertRecentDate(fetched.createdAt, 'clients.get createdAt');
  assert.equal(fetched.createdAt.getTime(), created.createdAt.getTime(), 'the same instant, to the millisecond');

  const page = await client.core.clients.list.query({ limit: 200 });
  assert.ok(Array.isArray(page.items));
  const listed = page.items.find((c) => c.id === created.id);
  assert.ok(listed, 'the new client is listed');
  assert.ok(listed.createdAt instanceof Date, 'list items carry Dates too');
});

test('superjson inputs reach the server decoded: undefined is absent, a Date arrives as a Date', async () => {
  const { client } = await signedIn();
  // `email: undefined` is sent as null + meta ["undefined"]; the server must treat it as absent.
  const created = await client.core.clients.create.mutate({ name: `Undefined ${randomUUID()}`, email: undefined });
  assert.equal(created.email, null);

  // No procedure of this API takes a date input (yet), so the Date round trip INTO the server is
  // observed through validation. On the wire a Date is its ISO string plus meta ["Date"]; the same
  // ISO string sent as a plain string is a valid name (control), so a refusal of the Date proves
  // the server revived it as a date (and refused it for a string field) instead of ignoring meta.
  const when = new Date();
  const control = await client.core.clients.create.mutate({ name: when.toISOString() });
  assert.equal(control.name, when.toISOString());
  const error = await rejectsWith(client.core.clients.create.mutate({ name: when }), 'BAD_REQUEST', 400);
  assert.deepEqual(error.data.fields?.map((f) => f.path), ['name'], JSON.stringify(error.data));
});

test('httpBatchLink sends two queries from one Promise.all as ONE HTTP request', async () => {
  const { client, requests } = await signedIn();
  const [me, team] = await Promise.all([client.auth.whoami.query(), client.core.team.get.query()]);
  assert.equal(requests.length, 1, `expected one HTTP request, got ${requests.map((r) => r.url.href).join(' | ')}`);
  const [request] = requests;
  assert.equal(request.method, 'GET');
  assert.equal(request.url.searchParams.get('batch'), '1');
  assert.ok(request.url.pathname.endsWith('/auth.whoami,core.team.get'), request.url.pathname);
  assert.equal(request.status, 200);

  assert.equal(me.user.email, EMAIL);
  assert.equal(team.id, TEAM_ID);
  assert.equal(typeof team.name, 'string');
  for (const key of ['baseCurrency', 'timezone', 'quietHours', 'plan']) assert.ok(key in team, `team.${key}`);
  assertRecentDate(team.createdAt, 'core.team.get createdAt');
});

test('a mixed batch (one success, one NOT_FOUND) is one request and settles each call on its own', async () => {
  const { client, requests } = await signedIn();
  const { id } = await client.core.clients.create.mutate({ name: `Batch ${randomUUID()}` });
  requests.length = 0;
  const [found, missing] = await Promise.allSettled([
    client.core.clients.get.query({ id }),
    client.core.clients.get.query({ id: randomUUID() }),
  ]);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].status, 207, 'mixed statuses answer 207 Multi-Status');
  assert.equal(found.status, 'fulfilled', String(found.reason));
  assert.equal(found.value.id, id);
  assert.equal(missing.status, 'rejected');
  await rejectsWith(Promise.reject(missing.reason), 'NOT_FOUND', 404);
});

test('a duplicate order number is CONFLICT (HTTP 409) on the mutation', async () => {
  const token = (await login()).token;
  const number = `ORD-${randomUUID().slice(0, 8)}`;
  const { client, requests } = makeClient({ batch: false, token });
  const order = await client.core.orders.create.mutate({ number, amount: '12.50', currency: 'BRL' });
  assert.equal(order.number, number);
  assert.equal(order.amount, '12.5');
  assert.equal(order.currency, 'BRL');
  assertRecentDate(order.createdAt, 'orders.create createdAt');

  const error = await rejectsWith(client.core.orders.create.mutate({ number }), 'CONFLICT', 409);
  assert.equal(error.shape.code, -32009);
  assert.equal(error.data.path, 'core.orders.create');
  assert.equal(requests.at(-1).status, 409, 'the HTTP response itself is 409');

  // The same through httpBatchLink.
  const batched = makeClient({ token }).client;
  await rejectsWith(batched.core.orders.create.mutate({ number }), 'CONFLICT', 409);
});

test('an unknown id is NOT_FOUND (HTTP 404)', async () => {
  const { client } = await signedIn({ batch: false });
  const error = await rejectsWith(client.core.clients.get.query({ id: randomUUID() }), 'NOT_FOUND', 404);
  assert.equal(error.data.path, 'core.clients.get');
  assert.equal(error.shape.code, -32004);
});

test('a wrong field type is BAD_REQUEST (HTTP 400) with data.fields naming the path', async () => {
  const { client } = await signedIn();
  const error = await rejectsWith(client.core.clients.create.mutate({ name: 5 }), 'BAD_REQUEST', 400);
  assert.ok(Array.isArray(error.data.fields), JSON.stringify(error.data));
  assert.equal(error.data.fields[0].path, 'name');
  assert.equal(typeof error.data.fields[0].message, 'string');
  assert.equal(error.shape.code, -32600);
});

test('no token is UNAUTHORIZED (HTTP 401), for a query and a mutation', async () => {
  const { client, requests } = makeClient({ batch: false, teamId: null });
  await rejectsWith(client.auth.whoami.query(), 'UNAUTHORIZED', 401);
  await rejectsWith(client.core.clients.create.mutate({ name: 'nobody' }), 'UNAUTHORIZED', 401);
  assert.deepEqual(requests.map((r) => r.status), [401, 401]);

  const forged = makeClient({ token: 'not-a-real-token' }).client;
  await rejectsWith(forged.core.team.get.query(), 'UNAUTHORIZED', 401);
});

/** A client whose subscriptions go over server-sent events, signed in by a header (Node's EventSource can). */
function subscriber(token) {
  const withToken = (url, init) => globalThis.fetch(url, {
    ...init, headers: { ...init?.headers, authorization: `Bearer ${token}` },
  });
  const link = httpSubscriptionLink({
    url: TRPC_URL, transformer: superjson, EventSource, eventSourceOptions: () => ({ fetch: withToken }),
  });
  return createTRPCClient({ links: [link] });
}

function subscribe(client, input) {
  return new Promise((resolve, reject) => {
    const subscription = client.communications.inbox.onChange.subscribe(input, {
      onStarted: () => resolve(subscription),
      onError: reject,
    });
  });
}

test('communications.inbox.onChange streams over httpSubscriptionLink; another team is NOT_FOUND', async () => {
  const { token, teams } = await login();
  const client = subscriber(token);
  const subscription = await subscribe(client, { teamId: TEAM_ID });
  subscription.unsubscribe();

  const elsewhere = randomUUID();
  assert.ok(!teams.some((t) => t.id === elsewhere));
  await assert.rejects(subscribe(client, { teamId: elsewhere }));
});
