/**
 * The operator's limits form for one account: the daily limit, the limit per movement and the
 * timezone whose calendar day the daily limit counts, with the reason, saved with
 * PUT /accounts/{id}/limits. It shows the limits exactly as the API last sent them, with who
 * changed them last, when, why, and what they were before.
 */
import type { Api, Limits, LimitsRequest } from './api';
import { h, uid } from './dom';
import { dateFormat } from './history';
import { isTimezone, limitsChangeText } from './limits';
import { minorToInput, parseLimit } from './money';
import { OperatorForm, type OperatorFormHost } from './operator-form';

export interface LimitsHost extends OperatorFormHost {
  api: Api;
  /** Limits the API just answered with: the account's numbers show them. */
  showLimits(limits: Limits): void;
}

interface LimitInputs {
  daily: HTMLInputElement;
  perMovement: HTMLInputElement;
  timezone: HTMLInputElement;
}
type Changes = Omit<LimitsRequest, 'reason'>;
type Refuse = (input: HTMLInputElement, message: string) => null;

/** The operator's limits form: one account's limits on the shared frame (operator-form.ts). */
export class LimitsForm {
  readonly element: HTMLFormElement;
  private readonly form: OperatorForm<Limits, Changes>;
  /** The limits as last read: only what the operator changed is sent. */
  private shown: Limits | null = null;

  constructor(host: LimitsHost) {
    const hintId = uid('limits-hint');
    const field = (name: string, inputmode: string): HTMLInputElement =>
      h('input', {
        id: uid(name),
        name,
        type: 'text',
        inputmode,
        autocomplete: 'off',
        spellcheck: 'false',
        'aria-describedby': hintId,
      });
    const inputs: LimitInputs = {
      daily: field('daily-limit', 'decimal'),
      perMovement: field('per-movement-limit', 'decimal'),
      timezone: field('limits-timezone', 'text'),
    };
    const labelled = (label: string, input: HTMLInputElement) =>
      h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
    this.form = new OperatorForm(
      host,
      {
        action: 'limits',
        title: 'Limits',
        hint: `In ${host.currency}, fees included: what may leave the account (withdrawals, payouts, transfers out) per day and per movement. The day is a calendar day in the timezone (an IANA name such as UTC or Europe/Paris).`,
        reasonLabel: 'Reason for the limits change',
        reasonWhat: 'limits change',
        content: [
          h(
            'div',
            { class: 'limits-fields' },
            labelled('Daily limit', inputs.daily),
            labelled('Per movement', inputs.perMovement),
            labelled('Timezone', inputs.timezone),
          ),
        ],
        inputs: [inputs.daily, inputs.perMovement, inputs.timezone],
        read: () => host.api.limits(host.accountId),
        parse: (refuse) => readChanges(inputs, this.shown, host.currency, refuse),
        save: (body) => host.api.setLimits(host.accountId, body),
        show: (limits) => {
          this.shown = limits;
          return showLimits(inputs, limits, host.currency);
        },
        saved: (limits) => `Limits saved: version ${limits.version}.`,
      },
      hintId,
      (limits) => host.showLimits(limits),
    );
    this.element = this.form.element;
  }

  /** Reads the limits and shows them. */
  load(): Promise<void> {
    return this.form.load();
  }
}

/** The limits the operator changed, or null (and the first bad field refused, or none changed). */
function readChanges(
  inputs: LimitInputs,
  shown: Limits | null,
  currency: string,
  refuse: Refuse,
): Changes | null {
  const daily = readAmount(inputs.daily, 'daily limit', currency, refuse);
  if (daily === null) return null;
  const perMovement = readAmount(inputs.perMovement, 'limit per movement', currency, refuse);
  if (perMovement === null) return null;
  const timezone = inputs.timezone.value.trim();
  if (!isTimezone(timezone)) {
    return refuse(
      inputs.timezone,
      timezone === ''
        ? 'Enter the timezone, for example UTC or Europe/Paris.'
        : `${timezone} is not a timezone this page knows: use an IANA name such as UTC or Europe/Paris.`,
    );
  }
  inputs.timezone.removeAttribute('aria-invalid');
  const changes: Changes = {};
  if (daily !== shown?.daily) changes.daily = daily;
  if (perMovement !== shown?.perMovement) changes.perMovement = perMovement;
  if (timezone !== shown?.timezone) changes.timezone = timezone;
  if (Object.keys(changes).length === 0) {
    return refuse(inputs.daily, 'Change at least one limit: these are the limits in force.');
  }
  return changes;
}

function readAmount(
  input: HTMLInputElement,
  name: string,
  currency: string,
  refuse: Refuse,
): number | null {
  if (input.value.trim() === '') return refuse(input, `Enter the ${name}.`);
  const parsed = parseLimit(input.value, currency);
  if (!parsed.ok) return refuse(input, parsed.message);
  input.removeAttribute('aria-invalid');
  // An amount the page accepts is at most 10^12: exact as a number.
  return Number(parsed.minor);
}

/** The limits as the API sent them in the fields; answers the line saying the last change. */
function showLimits(inputs: LimitInputs, limits: Limits, currency: string): string {
  inputs.daily.value = minorToInput(limits.daily, currency);
  inputs.perMovement.value = minorToInput(limits.perMovement, currency);
  inputs.timezone.value = limits.timezone;
  return limits.changed
    ? `Version ${limits.version}. ${limitsChangeText(limits.changed, currency, (at) => dateFormat.format(new Date(at)))}`
    : "No operator has changed this account's limits: the service's defaults apply.";
}
