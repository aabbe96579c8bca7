/**
 * The money-movement web page: sign in, see each account's balance and history, withdraw, pay
 * out (and watch the payout until the gateway's answer posts or voids it), transfer.
 * The page holds no money state of its own: balances and history are read from the API on load,
 * on sign-in and after every withdrawal attempt, and shown exactly as the API sent them.
 */
import { AccountCard } from './account-card';
import { Api, ApiError } from './api';
import { h, replaceChildren, say } from './dom';
import { messageFor } from './messages';
import { OperationsPanel } from './operations';
import {
  loadConfig,
  mayBeOperator,
  signIn,
  signOut,
  SignInError,
  storedSession,
  type Session,
  type WebConfig,
} from './session';

interface Regions {
  sessionBar: HTMLElement;
  alert: HTMLElement;
  status: HTMLElement;
  view: HTMLElement;
}

class App {
  private session: Session | null = storedSession();
  private cards: AccountCard[] = [];
  private operations: OperationsPanel | null = null;
  private readonly api: Api;

  constructor(
    private readonly config: WebConfig,
    private readonly regions: Regions,
  ) {
    this.api = new Api(config.apiUrl, () => this.session?.accessToken ?? '');
  }

  start(): void {
    if (this.session) void this.showAccounts();
    else this.showSignIn();
  }

  private clearMessages(): void {
    say(this.regions.alert, '');
    say(this.regions.status, '');
  }

  private showSignIn(): void {
    this.closeCards();
    replaceChildren(this.regions.sessionBar);
    const username = h('input', {
      id: 'username',
      name: 'username',
      autocomplete: 'username',
      autocapitalize: 'none',
      spellcheck: 'false',
    });
    const password = h('input', {
      id: 'password',
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
    });
    const button = h('button', { type: 'submit', class: 'primary wide' }, 'Sign in');
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      h('div', { class: 'field' }, h('label', { for: 'username' }, 'Username'), username),
      h('div', { class: 'field' }, h('label', { for: 'password' }, 'Password'), password),
      button,
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.signIn(username, password, button);
    });
    replaceChildren(
      this.regions.view,
      h(
        'section',
        { class: 'card signin', 'aria-labelledby': 'signin-title' },
        h('h1', { id: 'signin-title' }, 'Sign in'),
        h('p', { class: 'muted' }, 'Sign in to see your balances and make withdrawals.'),
        form,
      ),
    );
    username.focus();
  }

  private async signIn(
    username: HTMLInputElement,
    password: HTMLInputElement,
    button: HTMLButtonElement,
  ): Promise<void> {
    this.clearMessages();
    const name = username.value.trim();
    if (name === '' || password.value === '') {
      say(this.regions.alert, 'Enter your username and password.');
      (name === '' ? username : password).focus();
      return;
    }
    button.disabled = true;
    try {
      this.session = await signIn(this.config, name, password.value);
    } catch (error) {
      say(
        this.regions.alert,
        error instanceof SignInError ? error.message : 'Sign-in failed. Please try again.',
      );
      password.value = '';
      password.focus();
      button.disabled = false;
      return;
    }
    await this.showAccounts();
  }

  private async showAccounts(): Promise<void> {
    const session = this.session;
    if (!session) return this.showSignIn();
    this.closeCards();
    const signOutButton = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
    signOutButton.addEventListener('click', () => this.signOut(signOutButton));
    replaceChildren(
      this.regions.sessionBar,
      h('span', { class: 'who' }, 'Signed in as ', h('strong', {}, session.username)),
      signOutButton,
    );
    const list = h(
      'div',
      { class: 'accounts', 'aria-busy': 'true' },
      h('p', { class: 'muted' }, 'Loading your accounts…'),
    );
    replaceChildren(this.regions.view, h('h1', {}, 'Your accounts'), list);
    // An operator's page starts with the operations; the API says whether this is one.
    const operations = mayBeOperator(session)
      ? await OperationsPanel.forCaller({
          api: this.api,
          onSessionEnded: () => this.sessionEnded(),
        })
      : null;
    if (this.session !== session) return operations?.close();
    if (operations) {
      this.operations = operations;
      replaceChildren(
        this.regions.view,
        h('h1', {}, 'Operations'),
        operations.element,
        h('h2', { class: 'section-title' }, 'Your accounts'),
        list,
      );
    }

    let accounts;
    try {
      accounts = await this.api.accounts();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return this.sessionEnded();
      const retry = h('button', { type: 'button', class: 'secondary' }, 'Try again');
      retry.addEventListener('click', () => {
        this.clearMessages();
        void this.showAccounts();
      });
      say(this.regions.alert, `${messageFor(error)} Your accounts could not be loaded.`);
      replaceChildren(list, retry);
      list.setAttribute('aria-busy', 'false');
      return;
    }
    if (this.session !== session) return;
    if (accounts.length === 0) {
      replaceChildren(list, h('p', { class: 'card muted' }, 'You have no accounts yet.'));
    } else {
      const several = accounts.length > 1;
      this.cards = accounts.map(
        (account) =>
          new AccountCard(account, {
            api: this.api,
            several,
            onSessionEnded: () => this.sessionEnded(),
            onTransferred: (toAccountId) => {
              const target = this.cards.find((other) => other.accountId === toAccountId);
              if (target) void target.refresh();
            },
          }),
      );
      replaceChildren(list, ...this.cards.map((card) => card.element));
      // Each card shows the list's numbers at once; it then reads its balance (which alone has
      // the limits) and its history, a few accounts at a time so that a customer with many
      // accounts does not flood the API.
      await eachLimited(this.cards, LOAD_CONCURRENCY, (card) => card.refresh());
    }
    list.setAttribute('aria-busy', 'false');
  }

  private signOut(button: HTMLButtonElement): void {
    button.disabled = true;
    const session = this.session;
    this.session = null;
    // The tokens leave sessionStorage at once; the revocation finishes in the background.
    void signOut(this.config, session);
    this.clearMessages();
    this.showSignIn();
    say(this.regions.status, 'You are signed out.');
  }

  /** Any 401: the tokens are no good any more. Forget them and say so. */
  private sessionEnded(): void {
    const session = this.session;
    if (!session) return;
    this.session = null;
    void signOut(this.config, session);
    this.clearMessages();
    this.showSignIn();
    say(this.regions.alert, 'Your session has ended. Please sign in again.');
  }

  private closeCards(): void {
    for (const card of this.cards) card.close();
    this.cards = [];
    this.operations?.close();
    this.operations = null;
  }
}

const LOAD_CONCURRENCY = 3;

async function eachLimited<T>(
  items: T[],
  limit: number,
  run: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await run(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function region(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html has no #${id}`);
  return element;
}

async function main(): Promise<void> {
  const regions: Regions = {
    sessionBar: region('session-bar'),
    alert: region('page-alert'),
    status: region('page-status'),
    view: region('view'),
  };
  let config: WebConfig;
  try {
    config = await loadConfig();
  } catch {
    replaceChildren(regions.view);
    say(regions.alert, 'The page could not load its settings. Reload to try again.');
    return;
  }
  new App(config, regions).start();
}

void main();
