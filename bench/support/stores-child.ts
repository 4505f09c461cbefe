// Child process entry: runs the embedded DynamoDB (dynalite, in memory) and S3 (s3rver) on their own core.
import { startLocalStores } from '../../local/stores/index.ts';

/** Messages the parent sends: `stop` shuts the stores down and exits; `cpu` asks for the CPU time used. */
type ParentMessage = { type: 'stop' } | { type: 'cpu' };

const [dataDir, tableName, bucketName] = process.argv.slice(2);
if (!dataDir || !tableName || !bucketName) throw new Error('usage: stores-child <dataDir> <table> <bucket>');

const stores = await startLocalStores({ dataDir, tableName, bucketName, dynamoInMemory: true });
const stop = async () => {
  await stores.stop();
  process.exit(0);
};
process.on('message', (message: ParentMessage) => {
  if (message.type === 'stop') void stop();
  if (message.type === 'cpu') process.send?.({ type: 'cpu', usage: process.cpuUsage() });
});
// The parent died without asking: do not linger.
process.on('disconnect', () => void stop());
process.send?.({
  type: 'ready',
  dynamoEndpoint: stores.dynamoEndpoint,
  s3Endpoint: stores.s3Endpoint,
  region: stores.region,
  credentials: stores.credentials,
});
