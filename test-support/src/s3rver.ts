/**
 * S3 for dev and CI: @20minutes/s3rver with a shim for ListMultipartUploads (`GET /bucket?uploads`), which the
 * minio client calls before every multipart upload and s3rver does not implement. No object lock, versioning or
 * encryption: the server detects that at start-up. Production uses MinIO (compose.yaml).
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const require = createRequire(import.meta.url);

export type S3rverHandle = { port: number; close(): Promise<void> };

export async function startS3rver(opts: { port: number; directory: string; address?: string }): Promise<S3rverHandle> {
  const S3rver = require('@20minutes/s3rver');
  mkdirSync(opts.directory, { recursive: true });
  const s = new S3rver({ port: opts.port, address: opts.address ?? '127.0.0.1', directory: opts.directory, silent: true });
  s.middleware.unshift(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.method === 'GET' && 'uploads' in ctx.query) {
      ctx.type = 'application/xml';
      ctx.body = `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${ctx.path.split('/')[1]}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>`;
      return;
    }
    return next();
  });
  const started = await s.run();
  const port: number = typeof started?.address === 'function' ? started.address().port : (started?.port ?? opts.port);
  return { port, close: () => s.close() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.env.S3_PORT ?? 9000);
  const directory = process.env.S3_DIR ?? '.data/s3';
  const h = await startS3rver({ port, directory });
  console.log(JSON.stringify({ msg: 's3rver listening', port: h.port, directory, accessKey: 'S3RVER', secretKey: 'S3RVER' }));
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => void h.close().then(() => process.exit(0)));
}
