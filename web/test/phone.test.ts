import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkNumberQuery, formatE164, formatJapaneseNumber, normalizeNumberQuery } from '../src/lib/phone.ts';

describe('phone numbers for reading', () => {
  test('Japanese numbers get hyphens only where the grouping is certain', () => {
    assert.equal(formatJapaneseNumber('0312345678'), '03-1234-5678');
    assert.equal(formatJapaneseNumber('0612345678'), '06-1234-5678');
    assert.equal(formatJapaneseNumber('09012345678'), '090-1234-5678');
    assert.equal(formatJapaneseNumber('07011112222'), '070-1111-2222');
    assert.equal(formatJapaneseNumber('0501234567'), '0501234567', '050 needs 11 digits; this fixture DID has 10 and stays as given');
    assert.equal(formatJapaneseNumber('05012345678'), '050-1234-5678');
    assert.equal(formatJapaneseNumber('0120123456'), '0120-123-456');
    assert.equal(formatJapaneseNumber('08001234567'), '0800-123-4567', 'free dial, not an 080 mobile');
    assert.equal(formatJapaneseNumber('08012345678'), '080-1234-5678');
    assert.equal(formatJapaneseNumber('0570123456'), '0570-123-456');
    // Area codes of 3 to 5 digits cannot be told apart from the digits alone: left as they are.
    assert.equal(formatJapaneseNumber('0451234567'), '0451234567');
    assert.equal(formatJapaneseNumber('0467123456'), '0467123456');
    // Whatever the PBX wrote that is not a national number is never altered.
    for (const s of ['非通知', 'anonymous', '201', '+81312345678', '03-1234-5678', '']) assert.equal(formatJapaneseNumber(s), s);
  });

  test('E.164 is shown with the country code apart', () => {
    assert.equal(formatE164('+81312345678'), '+81 3-1234-5678');
    assert.equal(formatE164('+819012345678'), '+81 90-1234-5678');
    assert.equal(formatE164('+81451234567'), '+81 451234567');
    assert.equal(formatE164('+12025550123'), '+1 202-555-0123');
    assert.equal(formatE164('+442079460000'), '+442079460000');
    assert.equal(formatE164('0312345678'), '0312345678', 'not E.164: unchanged');
    assert.equal(formatE164('+0123'), '+0123');
  });

  test('a typed search is made searchable and checked like the centre does', () => {
    assert.equal(normalizeNumberQuery(' ０３－１２３４ '), '03-1234');
    assert.equal(normalizeNumberQuery('090ー1234ー5678'), '090-1234-5678', 'katakana long mark typed as a dash');
    assert.equal(normalizeNumberQuery('＋８１ ３'), '+81 3');
    assert.equal(checkNumberQuery('5678'), null);
    assert.equal(checkNumberQuery('+81 3-1234-5678'), null);
    assert.equal(checkNumberQuery('(03) 1234.5678'), null);
    assert.equal(checkNumberQuery('12'), 'number_short');
    assert.equal(checkNumberQuery('+8-'), 'number_short');
    assert.equal(checkNumberQuery('03*1234'), 'number_chars');
    assert.equal(checkNumberQuery('山田'), 'number_chars');
  });
});
