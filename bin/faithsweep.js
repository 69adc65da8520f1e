#!/usr/bin/env node
// The faithsweep CLI runs its TypeScript sources directly through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
