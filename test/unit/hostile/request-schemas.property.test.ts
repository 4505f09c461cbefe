// Property tests of the request schemas: any value is answered, accepted values keep every rule, errors stay small.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.ts';
import { validate } from '../../../functions/http/requests.ts';
import { listQuerySchema, submitRequestSchema, trackRequestSchema } from '../../../functions/schemas/api.ts';

const schemas = {
  submitRequestSchema,
  trackRequestSchema,
  listQuerySchema,
} as const;

/** Objects whose keys are mostly the schema's own, holding anything: the shapes an attacker would try. */
const nearMiss = (keys: string[]) =>
  fc.dictionary(fc.oneof(fc.constantFrom(...keys), fc.string()), fc.anything({ maxDepth: 3 }), {
    maxKeys: 8,
  });

// Reserved keys (__proto__...) are refused by the schema, tested below, so valid requests never use them.
const tagKey = fc
  .stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/)
  .filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));
const validSubmit = fc.record(
  {
    endpoint: fc.constantFrom('default', 'sdxl'),
    // zod drops a `__proto__` key wherever it stands (tested below), so a valid input never holds one.
    input: fc.dictionary(
      fc.string().filter((k) => k !== '__proto__'),
      fc.jsonValue({ maxDepth: 3 }),
    ),
    policy: fc.record(
      {
        executionTimeout: fc.integer({ min: 5_000, max: 7 * 86_400_000 }),
        ttl: fc.integer({ min: 10_000, max: 7 * 86_400_000 }),
        lowPriority: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
    metadata: fc.dictionary(tagKey, fc.string({ maxLength: 256 }), { maxKeys: 20 }),
    sync: fc.boolean(),
  },
  { requiredKeys: ['input'] },
);

describe('request schemas under arbitrary input', { timeout: 60_000 }, () => {
  it.each(Object.entries(schemas))('%s.safeParse never throws, whatever it is given', (_, schema) => {
    fc.assert(
      fc.property(fc.anything({ withBoxedValues: true, withNullPrototype: true, withMap: true }), (value) => {
        expect(() => schema.safeParse(value)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('validate answers every invalid value with a ValidationError of at most 20 short issues', () => {
    const check = (schema: (typeof schemas)[keyof typeof schemas], value: unknown) => {
      try {
        validate(schema, value, 'request body');
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        const issues = (err as ValidationError).details?.issues as Array<{ path: string; message: string }>;
        expect(issues.length).toBeGreaterThan(0);
        expect(issues.length).toBeLessThanOrEqual(20);
        for (const issue of issues) {
          expect(issue.path.length).toBeLessThanOrEqual(201);
          expect(issue.message.length).toBeLessThanOrEqual(301);
        }
      }
    };
    fc.assert(
      fc.property(
        nearMiss(['endpoint', 'input', 'policy', 'metadata', 'sync', 'upstreamId', 'limit', 'state']),
        fc.string({ minLength: 0, maxLength: 5000 }),
        (value, longKey) => {
          for (const schema of Object.values(schemas)) {
            check(schema, value);
            check(schema, { ...value, [longKey.repeat(50)]: longKey });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('submitRequestSchema accepts every valid request unchanged and keeps every rule on what it accepts', () => {
    fc.assert(
      fc.property(validSubmit, (request) => {
        const parsed = submitRequestSchema.safeParse(request);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(request);
      }),
    );
    fc.assert(
      fc.property(nearMiss(['endpoint', 'input', 'policy', 'metadata', 'sync']), (value) => {
        const parsed = submitRequestSchema.safeParse(value);
        if (!parsed.success) return;
        const { input, metadata, policy } = parsed.data;
        expect(typeof input === 'object' && input !== null && !Array.isArray(input)).toBe(true);
        expect(Object.keys(metadata ?? {}).length).toBeLessThanOrEqual(20);
        for (const [k, v] of Object.entries(metadata ?? {})) {
          expect(k).toMatch(/^[A-Za-z0-9_.:-]{1,64}$/);
          expect(v.length).toBeLessThanOrEqual(256);
        }
        if (policy?.executionTimeout !== undefined)
          expect(policy.executionTimeout).toBeGreaterThanOrEqual(5000);
      }),
      { numRuns: 500 },
    );
  });

  it('submit and track refuse any key they do not know', () => {
    const known = ['endpoint', 'input', 'policy', 'metadata', 'sync', 'upstreamId'];
    fc.assert(
      fc.property(
        fc.string().filter((k) => !known.includes(k)),
        fc.jsonValue(),
        (key, value) => {
          expect(submitRequestSchema.safeParse({ input: {}, [key]: value }).success).toBe(false);
          expect(trackRequestSchema.safeParse({ upstreamId: 'abc-123', [key]: value }).success).toBe(false);
        },
      ),
    );
  });

  it('trackRequestSchema accepts only upstream ids of printable id characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (upstreamId) => {
        const parsed = trackRequestSchema.safeParse({ upstreamId });
        expect(parsed.success).toBe(/^[A-Za-z0-9_.:-]{1,256}$/.test(upstreamId));
      }),
      { numRuns: 500 },
    );
  });

  it('listQuerySchema takes any string map without throwing; what it accepts is bounded', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(fc.constantFrom('from', 'to', 'state', 'endpoint', 'tag', 'limit', 'cursor'), fc.string()),
          fc.oneof(
            fc.string(),
            fc.constantFrom('0', '1', '100', '101', '-1', '1e2', 'NaN', 'Infinity', '0x10'),
          ),
        ),
        (query) => {
          const parsed = listQuerySchema.safeParse(query);
          if (!parsed.success) return;
          expect(Number.isInteger(parsed.data.limit)).toBe(true);
          expect(parsed.data.limit).toBeGreaterThanOrEqual(1);
          expect(parsed.data.limit).toBeLessThanOrEqual(100);
          if (parsed.data.from) expect(Number.isNaN(Date.parse(parsed.data.from))).toBe(false);
          if (parsed.data.to) expect(Number.isNaN(Date.parse(parsed.data.to))).toBe(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('metadata keys a plain object cannot hold', () => {
  it.each(['constructor', 'prototype'])('refuses %s', (key) => {
    const parsed = submitRequestSchema.safeParse(JSON.parse(`{"input":{},"metadata":{"${key}":"x"}}`));
    expect(parsed.success).toBe(false);
  });

  it('drops __proto__ (zod never copies it) so nothing can reach a prototype', () => {
    const parsed = submitRequestSchema.parse(
      JSON.parse('{"input":{},"metadata":{"__proto__":{"polluted":"yes"}}}'),
    );
    expect(Object.keys(parsed.metadata ?? {})).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
