import { Logger } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bull';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Response } from 'express';
import { EXPORT_QUEUE } from 'nestjs-data-export';
import { DemoRequest, isSupport } from './demo-auth';

/** Where Bull Board is mounted. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Mounts Bull Board on the export queue at `/admin/queues`, for the support agent only (the demo
 * sign-in sets `req.user` before it). Bull Board is a dev dependency of the sample: without it
 * installed, the sample runs without the board.
 */
export function mountQueueBoard(app: NestExpressApplication): boolean {
  let api: any;
  let bullAdapter: any;
  let express: any;
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    api = require('@bull-board/api');
    bullAdapter = require('@bull-board/api/bullAdapter');
    express = require('@bull-board/express');
  } catch {
    new Logger('Sample').warn('Bull Board is not installed (npm install -D @bull-board/api @bull-board/express): /admin/queues is off.');
    return false;
  }
  const board = new express.ExpressAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  api.createBullBoard({ queues: [new bullAdapter.BullAdapter(app.get(getQueueToken(EXPORT_QUEUE)))], serverAdapter: board });
  const supportOnly = (req: DemoRequest, res: Response, next: NextFunction) => {
    if (isSupport(req.user)) return next();
    res.status(req.user ? 403 : 401).type('text').send('Only the help desk\'s support staff can open the job queue.');
  };
  app.use(QUEUE_BOARD_PATH, supportOnly, board.getRouter());
  return true;
}
