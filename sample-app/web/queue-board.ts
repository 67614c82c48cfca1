import { getQueueToken } from '@nestjs/bull';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { NextFunction, Response } from 'express';
import { EXPORT_QUEUE } from 'nestjs-data-export';
import { DemoRequest, isSupport } from './demo-auth';

/** Where Bull Board is mounted. */
export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Mounts Bull Board on the export queue at `/admin/queues`, for the support agent only (the demo
 * sign-in sets `req.user` before it).
 */
export function mountQueueBoard(app: NestExpressApplication): void {
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({ queues: [new BullAdapter(app.get(getQueueToken(EXPORT_QUEUE)))], serverAdapter: board });
  const supportOnly = (req: DemoRequest, res: Response, next: NextFunction) => {
    if (isSupport(req.user)) return next();
    res.status(req.user ? 403 : 401).type('text').send('Only the help desk\'s support staff can open the job queue.');
  };
  app.use(QUEUE_BOARD_PATH, supportOnly, board.getRouter());
}
