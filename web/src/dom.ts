import { formatMinor } from './money';
/** A tiny element builder: no innerHTML anywhere, so no text from a server can become markup. */

type Attributes = Record<string, string | boolean | undefined>;
export type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  append(element, ...children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same builder for SVG elements (the balance chart), which live in their own namespace. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  setAttributes(element, attributes);
  append(element, ...children);
  return element;
}

function setAttributes(element: Element, attributes: Attributes): void {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : value);
  }
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A live region's text; an empty region takes no room (see .message:empty in styles.css). */
export function say(region: HTMLElement, text: string): void {
  region.textContent = text;
}

let counter = 0;
/** A unique id for label/aria wiring. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** An amount field in the currency's major units (parsed with parseAmount; never a float sent). */
export function amountField(
  currency: string,
  options: { id: string; name: string; hintId: string; ariaLabel?: string },
): HTMLInputElement {
  return h('input', {
    id: options.id,
    name: options.name,
    type: 'text',
    inputmode: 'decimal',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: formatMinor(0, currency).replace(/[^\d.,]/g, ''),
    'aria-describedby': options.hintId,
    'aria-label': options.ariaLabel,
  });
}

/** A field for an account id (26 characters of Crockford's base 32, typed or pasted). */
export function accountIdField(options: { id: string; name: string; hintId: string }) {
  return h('input', {
    id: options.id,
    name: options.name,
    type: 'text',
    autocomplete: 'off',
    autocapitalize: 'characters',
    spellcheck: 'false',
    maxlength: '64',
    'aria-describedby': options.hintId,
  });
}

/** A field the page refuses before sending: marked invalid, the reason said, focus on it. */
export function refuseField(alert: HTMLElement, input: HTMLInputElement, message: string): void {
  input.setAttribute('aria-invalid', 'true');
  say(alert, message);
  input.focus();
}

/** A form while its request is in flight: button disabled, fields read-only, marked busy. */
export function setFormBusy(
  form: HTMLFormElement,
  button: HTMLButtonElement,
  inputs: HTMLInputElement[],
  on: boolean,
): void {
  button.disabled = on;
  for (const input of inputs) input.readOnly = on;
  form.setAttribute('aria-busy', String(on));
  button.classList.toggle('working', on);
}

/** The note under a form about its unanswered attempt; null hides it. */
export function showNote(note: HTMLElement, text: string | null): void {
  note.hidden = text === null;
  note.textContent = text ?? '';
}

/** The longest reason the API keeps (openapi.yaml's Reason, once trimmed). */
const REASON_MAX = 500;

/** The operator's reason, trimmed; null (and the field refused) when it is empty or too long. */
export function reasonOf(input: HTMLInputElement, alert: HTMLElement, what: string): string | null {
  const reason = input.value.trim();
  if (reason === '' || reason.length > REASON_MAX) {
    refuseField(
      alert,
      input,
      reason === ''
        ? `Enter the reason for the ${what}: it is recorded with it.`
        : `The reason may be at most ${REASON_MAX} characters.`,
    );
    return null;
  }
  input.removeAttribute('aria-invalid');
  return reason;
}
