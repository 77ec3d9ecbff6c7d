import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CatalogTest, startCatalog } from './catalog.test-support.js';
import * as searchSimplified from './migrations/0003-search-simplified.js';
import {
  buildTsquery,
  buildTsvector,
  documentTokens,
  editDistance,
  highlight,
  highlightNeedles,
  markdownToText,
  queryTerms,
  snippet,
} from './search.js';

describe('tokens', () => {
  it('splits Latin words from CJK runs and indexes CJK as characters and bigrams', () => {
    expect(documentTokens('Python编程入门')).toEqual([
      'python',
      '编',
      '编程',
      '程',
      '程入',
      '入',
      '入门',
      '门',
    ]);
    expect(documentTokens('C++ and C# 101')).toEqual(['c++', 'and', 'c#', '101']);
  });

  it('turns a CJK query into bigrams that all must match, and a word into a prefix', () => {
    const terms = queryTerms('编程入门 pyth');
    expect(terms.map((t) => t.lexemes)).toEqual([['编程', '程入', '入门'], ['pyth']]);
    expect(buildTsquery(terms)).toBe("( '编程' & '程入' & '入门' ) & ( 'pyth':* )");
    expect(buildTsquery(queryTerms('编'))).toBe("( '编' )");
    expect(buildTsquery(queryTerms('!!!'))).toBeUndefined();
    expect(queryTerms('编'.repeat(300))[0]?.lexemes).toEqual(['编编']);
    expect(queryTerms('一二三四五六七八九十甲乙丙丁戊己庚辛壬癸')[0]?.lexemes).toHaveLength(16);
    expect(queryTerms('a b c d e f g h i j k l m n o p')).toHaveLength(12);
  });

  it('adds spelling corrections as alternatives', () => {
    expect(buildTsquery(queryTerms('pyhton'), new Map([['pyhton', ['python']]]))).toBe(
      "( ( 'pyhton':* | 'python' ) )",
    );
  });

  it('writes weighted positions and quotes every lexeme', () => {
    expect(
      buildTsvector([
        { text: "It's", weight: 'A' },
        { text: 'it', weight: 'C' },
      ]),
    ).toBe("'it':1A,3C 's':2A");
  });
});

describe('edit distance', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('pyhton', 'python')).toBe(1);
    expect(editDistance('javscript', 'javascript')).toBe(1);
    expect(editDistance('react', 'redux')).toBe(3);
  });
});

describe('highlight', () => {
  it('marks CJK bigrams and whole words from a prefix, escaping everything else', () => {
    const needles = highlightNeedles(queryTerms('编程 pyth'));
    // adjacent matches merge into one mark
    expect(highlight('Python编程入门 <b>', needles)).toBe('<mark>Python编程</mark>入门 &lt;b&gt;');
    expect(highlight('学Python，再学编程', needles)).toBe('学<mark>Python</mark>，再学<mark>编程</mark>');
  });

  it('does not mark a word that only contains the needle', () => {
    expect(highlight('typhoon python', highlightNeedles(queryTerms('pyth')))).toBe(
      'typhoon <mark>python</mark>',
    );
  });

  it('makes a snippet around the first match', () => {
    const text = `${'intro '.repeat(40)}the 异步编程 part ${'tail '.repeat(40)}`;
    const s = snippet(text, highlightNeedles(queryTerms('异步')));
    expect(s).toContain('<mark>异步</mark>');
    expect(s?.startsWith('…')).toBe(true);
    expect(snippet('nothing here', highlightNeedles(queryTerms('异步')))).toBeUndefined();
  });

  it('reads Markdown as text', () => {
    expect(markdownToText('## Title\n\n**Bold** [link](http://x) <script>x</script> `code`')).toBe(
      'Title Bold link x code',
    );
  });
});

describe('Traditional and Simplified Chinese (through the API)', () => {
  let t: CatalogTest;
  let simplified: string;
  let traditional: string;

  beforeAll(async () => {
    t = await startCatalog();
    simplified = (await t.publishedCourse({ title: 'Python 爬虫实战' })).id;
    traditional = (await t.publishedCourse({ title: '網路爬蟲與資料分析' })).id;
  });

  afterAll(async () => {
    await t.app.stop();
  });

  const search = async (q: string) => {
    const r = await t.request('GET', `/api/v1/courses?q=${encodeURIComponent(q)}&sort=relevance&limit=50`);
    expect(r.statusCode, r.body).toBe(200);
    return r.json<{ data: { id: string; highlight?: { title: string } }[] }>().data;
  };

  it('finds a course written in either script from a query in either script', async () => {
    for (const q of ['爬蟲', '爬虫']) {
      const ids = (await search(q)).map((c) => c.id);
      expect(ids, q).toContain(simplified);
      expect(ids, q).toContain(traditional);
    }
    // a mixed query: a Latin word and a Traditional run must both match
    expect((await search('python 爬蟲實戰')).map((c) => c.id)).toEqual([simplified]);
    expect((await search('資料分析')).map((c) => c.id)).toEqual([traditional]);
    expect((await search('资料分析')).map((c) => c.id)).toEqual([traditional]);
  });

  it('marks the match in a Traditional title found by a Simplified query', async () => {
    const hit = (await search('爬虫')).find((c) => c.id === traditional);
    expect(hit?.highlight?.title).toContain('<mark>爬蟲</mark>');
  });

  it('re-indexes documents stored before the change (migration 0003)', async () => {
    const db = t.app.platform.database.db;
    // the document as the earlier tokenizer wrote it: Traditional characters and bigrams
    const old = "'網':1A '網路':1A '路':2A '路爬':2A '爬':3A '爬蟲':3A '蟲':4A";
    await sql`update catalog.courses set search_vector = ${old}::tsvector where id = ${traditional}`.execute(
      db,
    );
    expect((await search('爬虫')).map((c) => c.id)).not.toContain(traditional);
    await searchSimplified.up(db);
    expect((await search('爬虫')).map((c) => c.id)).toContain(traditional);
  });
});
