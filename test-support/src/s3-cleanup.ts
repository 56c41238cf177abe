/**
 * Empties and removes a test bucket: every version and delete marker, clearing legal holds and bypassing GOVERNANCE
 * retention where the storage refuses. The tests' radosgw keeps its data in memory (memstore), so each test centre
 * gives its bucket back at close. Best effort: a failure leaves the bucket and is not an error of the test.
 */
import * as Minio from 'minio';

export async function dropTestBucket(s: { endpoint: string; accessKey: string; secretKey: string; bucket: string }): Promise<void> {
  const u = new URL(s.endpoint);
  const c = new Minio.Client({ endPoint: u.hostname, port: Number(u.port || 80), useSSL: u.protocol === 'https:', accessKey: s.accessKey, secretKey: s.secretKey, pathStyle: true, region: 'us-east-1' });
  if (!(await c.bucketExists(s.bucket).catch(() => false))) return;
  const items: { name: string; versionId?: string }[] = [];
  for await (const v of c.listObjects(s.bucket, '', true, { IncludeVersion: true }) as AsyncIterable<{ name?: string; versionId?: string }>) {
    if (v.name) items.push({ name: v.name, ...(v.versionId && v.versionId !== 'null' ? { versionId: v.versionId } : {}) });
  }
  const drop = async (o: { name: string; versionId?: string }) => {
    const opts = o.versionId ? { versionId: o.versionId, governanceBypass: true } : {};
    try {
      await c.removeObject(s.bucket, o.name, opts);
    } catch (e) {
      if ((e as { code?: string }).code !== 'AccessDenied' || !o.versionId) throw e;
      await (c.setObjectLegalHold(s.bucket, o.name, { status: 'OFF', versionId: o.versionId } as never) as unknown as Promise<void>);
      await c.removeObject(s.bucket, o.name, opts);
    }
  };
  for (let i = 0; i < items.length; i += 16) await Promise.all(items.slice(i, i + 16).map(drop));
  await c.removeBucket(s.bucket);
}
