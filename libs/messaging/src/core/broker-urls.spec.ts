import { parseBrokerUrls, redactUrl, redactUrls } from './broker-urls';
import { channelErrorConcerns } from './publisher';

describe('broker URLs', () => {
  it('masks the password of one URL, and of every URL inside a text', () => {
    expect(redactUrl('amqp://u:s3cret@h:5672/v')).toBe('amqp://u:***@h:5672/v');
    expect(redactUrl('amqp://h:5672')).toBe('amqp://h:5672');
    expect(redactUrls('tried amqp://u:a@h1:1 and amqps://v:b%2Cc@h2:2/x, then gave up')).toBe(
      'tried amqp://u:***@h1:1 and amqps://v:***@h2:2/x, then gave up',
    );
    expect(redactUrls('no URL here: user:pass@host')).toBe('no URL here: user:pass@host');
  });

  it('keeps a percent-encoded comma inside a password in one entry', () => {
    expect(parseBrokerUrls('amqp://u:a%2Cb@h1,amqp://h2')).toEqual(['amqp://u:a%2Cb@h1', 'amqp://h2']);
  });
});

describe('channelErrorConcerns', () => {
  const notFound = (exchange: string) =>
    new Error(
      `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange '${exchange}' in vhost '/'"`,
    );

  it('is true for the exchange the broker names, false for another, true when it names none', () => {
    expect(channelErrorConcerns(notFound('gone'), 'gone')).toBe(true);
    expect(channelErrorConcerns(notFound('gone'), 'warren.events')).toBe(false);
    expect(channelErrorConcerns(notFound("it's"), "it's")).toBe(true);
    expect(
      channelErrorConcerns(
        new Error(
          'Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - unknown delivery tag 1"',
        ),
        'warren.events',
      ),
    ).toBe(true);
  });
});
