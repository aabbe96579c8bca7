import { createTestLedger, type TestLedger } from '../support/ledger';
import { ledgerStoreContract } from '../support/store-contract';

/** The DynamoDB adapter on DynamoDB Local keeps the contract the in-memory store is held to. */
describe('the DynamoDB LedgerStore keeps the store contract', () => {
  let ledger: TestLedger | undefined;
  ledgerStoreContract({
    async open() {
      // No sequencer: the cases place statement lines and retire pending entries themselves.
      ledger = await createTestLedger('store-contract', { sequencer: false });
      return ledger.store;
    },
    close: async () => ledger?.close(),
  });
});
