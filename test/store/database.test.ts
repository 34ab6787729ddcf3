import { openTempDatabase } from '../helpers/temp-database';

describe('database', () => {
  it('creates every table on first open and keeps rows across a reopen', async () => {
    const database = await openTempDatabase();
    await database.db
      .insertInto('users')
      .values({ email: 'a@example.com', name: 'A', password_hash: 'x', created_at: 1, updated_at: 1 })
      .execute();
    const rows = await database.db.selectFrom('users').select(['id', 'email']).execute();
    expect(rows).toEqual([{ id: 1, email: 'a@example.com' }]);
    await database.close();
  });
});
