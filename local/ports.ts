/** Ports for the local stack and the tests: is one free, and one the OS says is. */
import net from 'node:net';

function tryListen(port: number, host: string | undefined): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else if (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT') resolve(true);
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function somethingAnswers(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (answered: boolean): void => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** True if nothing listens on `port` (checked on the wildcard address, as Jetty binds it, and on `host`). */
export async function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  if (!(await tryListen(port, '0.0.0.0'))) return false;
  if (!(await tryListen(port, host))) return false;
  return !(await somethingAnswers(port, host));
}

/** Throws `Port N is already in use (VARIABLE)` if something listens on the port. */
export async function assertPortFree(
  port: number,
  nameOfVariable: string,
  host = '127.0.0.1',
): Promise<void> {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`Invalid port ${String(port)} (${nameOfVariable})`);
  }
  if (!(await isPortFree(port, host))) {
    throw new Error(`Port ${port} is already in use (${nameOfVariable})`);
  }
}

/** A port the OS reports free right now (there is a small race until it is bound again). */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close(() => reject(new Error('Could not determine a free port')));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
