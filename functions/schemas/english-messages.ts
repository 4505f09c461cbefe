// Installs zod's English messages, which classic zod sets up by itself and zod/mini leaves out, so the function
// schemas (built with zod/mini, a fraction of classic zod's bundled size) give users the same errors. Every
// module that builds a schema imports this first; it exports nothing, so the bundler still drops the other locales.
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());
