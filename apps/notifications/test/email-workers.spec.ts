import { workersFor } from '../src/jobs/email-jobs.service';

describe('workersFor (emails handled at once, and pooled SMTP connections)', () => {
  it('keeps 5 up to 100 emails/s, then adds one per 20/s, up to 50', () => {
    expect([0.1, 5, 100, 101, 200, 1000, 5000].map(workersFor)).toEqual([5, 5, 5, 6, 10, 50, 50]);
  });
});
