/**
 * The operation history around a violation, for the report: the operations on the violating
 * account (as source or destination) in the order they were first sent, `radius` on each side
 * of the violating one (or the last ones, when the violation names only the account).
 */
import type { Operation, Violation } from './model';

export function historyAround(ops: Operation[], violation: Violation, radius = 5): string[] {
  const accountId =
    violation.accountId ?? ops.find((op) => op.id === violation.operation)?.account.accountId;
  if (accountId === undefined) return [];
  const onAccount = ops
    .filter((op) => op.account.accountId === accountId || op.toAccount?.accountId === accountId)
    .sort((a, b) => a.firstSentAt - b.firstSentAt);
  const at = onAccount.findIndex((op) => op.id === violation.operation);
  const centre = at >= 0 ? at : onAccount.length - 1;
  return onAccount
    .slice(Math.max(0, centre - radius), centre + radius + 1)
    .map((op) => `${op.id === violation.operation ? '>' : ' '} ${describeOperation(op)}`);
}

function describeOperation(op: Operation): string {
  const answers = op.attempts
    .map(
      (a) => `${a.status ?? a.kind}${a.code ? ` ${a.code}` : ''}${a.replayed ? ' (replayed)' : ''}`,
    )
    .join(', ');
  const to = op.toAccount ? ` to ${op.toAccount.accountId}` : '';
  return (
    `#${op.id} client ${op.client} ${op.type} ${op.amount}${to} key ${op.key} ` +
    `sent ${op.firstSentAt.toFixed(0)} ms: ${op.outcome}${op.transactionId ? ` ${op.transactionId}` : ''} [${answers}]`
  );
}
