import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { keepBodies } from '../../bench/autocannon-bodies.js';

// the queue autocannon's HTTP client keeps its responses in, as that client loads it
const require = createRequire(import.meta.url);
const Queue = require('autocannon/lib/pipelinedRequestsQueue.js') as new () => {
  insertRequest(req: unknown): void;
  addBody(data: Buffer): void;
  peek(): { body: string } | undefined;
};

afterEach(() => {
  keepBodies(true);
});

describe("the bench's load generator", () => {
  it('decodes no response body while bodies are not kept, and decodes them again once they are', () => {
    const queue = new Queue();
    queue.insertRequest({});
    keepBodies(false);
    queue.addBody(Buffer.from('吉他弹唱入门'));
    expect(queue.peek()?.body).toBe('');
    keepBodies(true);
    queue.addBody(Buffer.from('吉他'));
    expect(queue.peek()?.body).toBe('吉他');
  });
});
