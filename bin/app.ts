// CDK entry point (`npx cdk synth|deploy`): the archiver stack, checked by cdk-nag.
import { App } from 'aws-cdk-lib';
import { buildArchiverApp } from '../lib/archiver-app.ts';
import { StackConfigError } from '../lib/stack-config.ts';

const app = new App();
try {
  buildArchiverApp(app, process.env);
} catch (error) {
  if (!(error instanceof StackConfigError)) throw error;
  // The message names every bad key; a stack trace would only bury it.
  console.error(error.message);
  process.exit(1);
}
app.synth();
