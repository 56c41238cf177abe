import * as Minio from 'minio';
import { TEST_ENV, uniqueName } from '../test-support/src/env.ts';
const url = new URL(TEST_ENV.s3Endpoint);
const c = new Minio.Client({ endPoint: url.hostname, port: Number(url.port), useSSL: false, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, region: 'us-east-1', pathStyle: true });
const b = uniqueName('dbg').toLowerCase().replaceAll('_', '-');
console.log('exists'); console.log(await c.bucketExists(b));
console.log('make'); await c.makeBucket(b, 'us-east-1', { ObjectLocking: true }); console.log('made');
await c.removeBucket(b);
